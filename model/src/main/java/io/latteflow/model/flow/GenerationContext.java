package io.latteflow.model.flow;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.nn.Rope;
import io.latteflow.model.vlm.PromptBatch;
import io.latteflow.model.vlm.VisionLanguageModel;
import org.nd4j.linalg.api.ndarray.INDArray;

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
