package io.latteflow.model.flow;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.nn.Rope;
import io.latteflow.model.vlm.PromptBatch;
import io.latteflow.model.vlm.VisionLanguageModel;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the generation layers read of a prompt: every layer's context K/V from one prefill, the context padding
 * mask, and the image tokens' 2D RoPE tables (grid cell (i, j) at position (s, s+i, s+j), s = next position).
 * Computed once per request batch and reused by every sampling step and every group.
 */
public record GenerationContext(INDArray[] keys, INDArray[] values, INDArray keyMask, INDArray imageCos, INDArray imageSin) {

    public static GenerationContext of(LatteConfig c, PromptBatch prompts, VisionLanguageModel.Prefill prefill) {
        INDArray[] rope = imageRope(c, prompts.nextPos());
        return new GenerationContext(prefill.keys(), prefill.values(), prompts.keyMask(), rope[0], rope[1]);
    }

    /**
     * One prefill over the distinct contexts of a batch (the empty caption of every guided row is computed once),
     * expanded back to one row per context.
     */
    public static GenerationContext of(LatteConfig c, List<int[]> contexts, VisionLanguageModel vlm, int padId) {
        Map<String, Integer> distinct = new LinkedHashMap<>();
        List<int[]> unique = new ArrayList<>();
        int[] rowOf = new int[contexts.size()];
        for (int i = 0; i < contexts.size(); i++) {
            int[] ids = contexts.get(i);
            rowOf[i] = distinct.computeIfAbsent(Arrays.toString(ids), k -> {
                unique.add(ids);
                return unique.size() - 1;
            });
        }
        PromptBatch prompts = PromptBatch.of(c, unique, false, padId);
        GenerationContext once = of(c, prompts, vlm.prefill(prompts, null, c.numLayers(), false));
        if (unique.size() == contexts.size()) return once;
        INDArray rows = Nd4j.createFromArray(rowOf);
        INDArray[] k = new INDArray[once.keys.length], v = new INDArray[once.values.length];
        for (int l = 0; l < k.length; l++) {
            k[l] = pick(once.keys[l], rows);
            v[l] = pick(once.values[l], rows);
        }
        return new GenerationContext(k, v, pick(once.keyMask, rows), pick(once.imageCos, rows), pick(once.imageSin, rows));
    }

    private static long[] expand(INDArray a, int rows) {
        long[] s = a.shape().clone();
        s[0] = rows;
        return s;
    }

    /** Rows of a (batch, ...) array, in the given order. */
    private static INDArray pick(INDArray a, INDArray rows) {
        INDArray flat = a.dup('c').reshape(a.size(0), a.length() / a.size(0));
        return Nd4j.pullRows(flat, 1, rows.toIntVector()).reshape(expand(a, (int) rows.length()));
    }

    public static INDArray[] imageRope(LatteConfig c, long[] start) {
        int g = c.latentGrid();
        long[][][] pos = new long[start.length][3][g * g];
        for (int b = 0; b < start.length; b++)
            for (int cell = 0; cell < g * g; cell++) {
                pos[b][0][cell] = start[b];
                pos[b][1][cell] = start[b] + cell / g;
                pos[b][2][cell] = start[b] + cell % g;
            }
        return Rope.mrope(pos, c.headDim(), c.ropeTheta(), c.mropeSection());
    }

    public int batch() {
        return (int) keyMask.size(0);
    }
}
