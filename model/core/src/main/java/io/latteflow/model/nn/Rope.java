package io.latteflow.model.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Rotary position tables, computed on the host and fed to graphs as placeholders.
 * Layout is Hugging Face's {@code rotate_half}: the table's two halves repeat the same frequencies.
 */
public final class Rope {
    private Rope() {
    }

    /**
     * Multimodal RoPE (Qwen2-VL): frequency j of the rotary half takes its position from component
     * t, h or w according to {@code section}.
     *
     * @param positions (batch, 3, n) position triples (t, h, w)
     * @return {cos, sin}, each (batch, 1, n, headDim)
     */
    public static INDArray[] mrope(long[][][] positions, int headDim, double theta, int[] section) {
        int batch = positions.length, n = positions[0][0].length, half = headDim / 2;
        float[] cos = new float[batch * n * headDim], sin = new float[cos.length];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < half; j++) {
                    int component = j < section[0] ? 0 : j < section[0] + section[1] ? 1 : 2;
                    double angle = positions[b][component][i] * Math.pow(theta, -2.0 * j / headDim);
                    int at = (b * n + i) * headDim + j;
                    cos[at] = cos[at + half] = (float) Math.cos(angle);
                    sin[at] = sin[at + half] = (float) Math.sin(angle);
                }
            }
        }
        return new INDArray[]{Nd4j.create(cos, new long[]{batch, 1, n, headDim}, 'c'),
                Nd4j.create(sin, new long[]{batch, 1, n, headDim}, 'c')};
    }

    /**
     * The ViT's 2D RoPE (Qwen2-VL VisionRotaryEmbedding): a quarter of the frequencies follow the patch row,
     * a quarter the column, the other half repeats them.
     *
     * @param rows, cols patch coordinates, one per token
     * @return {cos, sin}, each (1, 1, n, headDim)
     */
    public static INDArray[] vision2d(int[] rows, int[] cols, int headDim, double theta) {
        int n = rows.length, quarter = headDim / 4, half = headDim / 2;
        float[] cos = new float[n * headDim], sin = new float[cos.length];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < half; j++) {
                double invFreq = Math.pow(theta, -2.0 * (j % quarter) / half);
                double angle = (j < quarter ? rows[i] : cols[i]) * invFreq;
                int at = i * headDim + j;
                cos[at] = cos[at + half] = (float) Math.cos(angle);
                sin[at] = sin[at + half] = (float) Math.sin(angle);
            }
        }
        return new INDArray[]{Nd4j.create(cos, new long[]{1, 1, n, headDim}, 'c'),
                Nd4j.create(sin, new long[]{1, 1, n, headDim}, 'c')};
    }
}
