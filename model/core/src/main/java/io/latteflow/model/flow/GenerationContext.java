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

    /**
     * The rows of several contexts in one batch, in order: shorter contexts are padded with zero keys and values
     * that the key mask hides, so every row attends to exactly what it attended to alone.
     */
    public static GenerationContext concat(List<GenerationContext> parts) {
        if (parts.size() == 1) return parts.get(0);
        long n = parts.stream().mapToLong(p -> p.keyMask.size(3)).max().orElseThrow();
        int layers = parts.get(0).keys.length;
        INDArray[] k = new INDArray[layers], v = new INDArray[layers];
        for (int l = 0; l < layers; l++) {
            INDArray[] ks = new INDArray[parts.size()], vs = new INDArray[parts.size()];
            for (int i = 0; i < parts.size(); i++) {
                ks[i] = padAxis(parts.get(i).keys[l], 2, n, 0f);                 // (rows, kvHeads, n, headDim)
                vs[i] = padAxis(parts.get(i).values[l], 2, n, 0f);
            }
            k[l] = Nd4j.concat(0, ks);
            v[l] = Nd4j.concat(0, vs);
        }
        INDArray[] masks = new INDArray[parts.size()], cos = new INDArray[parts.size()], sin = new INDArray[parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            masks[i] = padAxis(parts.get(i).keyMask, 3, n, PromptBatch.MASKED);     // (rows, 1, 1, n)
            cos[i] = parts.get(i).imageCos;
            sin[i] = parts.get(i).imageSin;
        }
        return new GenerationContext(k, v, Nd4j.concat(0, masks), Nd4j.concat(0, cos), Nd4j.concat(0, sin));
    }

    private static INDArray padAxis(INDArray a, int axis, long size, float fill) {
        if (a == null || a.size(axis) == size) return a;
        long[] shape = a.shape().clone();
        shape[axis] = size - a.size(axis);
        return Nd4j.concat(axis, a, Nd4j.valueArrayOf(shape, fill, a.dataType()));
    }

    public int batch() {
        return (int) keyMask.size(0);
    }
}
