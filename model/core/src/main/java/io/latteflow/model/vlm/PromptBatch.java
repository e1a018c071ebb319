package io.latteflow.model.vlm;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.nn.Rope;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * Right-padded token sequences with their M-RoPE tables and causal masks. A sequence may carry an image: its
 * merged patch tokens sit right after {@code <|im_start|><|vision_start|>}, at the (t, h, w) positions
 * (s, s+i, s+j); text after the image continues from the largest image position plus one.
 *
 * @param ids        (batch, n) token ids, image slots hold {@code <|image_pad|>}
 * @param lengths    real length of each row
 * @param positions  (batch, 3, n) M-RoPE triples
 * @param nextPos    the position the next token of each row gets
 */
public record PromptBatch(INDArray ids, int[] lengths, long[][][] positions, long[] nextPos, boolean withImage) {
    public static final float MASKED = -1e9f;

    /** Position of the first image token in every sequence that has one. */
    public static final int IMAGE_OFFSET = 2;

    public static PromptBatch of(LatteConfig c, List<int[]> sequences, boolean withImage, int padId) {
        int batch = sequences.size(), n = sequences.stream().mapToInt(s -> s.length).max().orElse(0);
        int gm = c.visionGrid() / c.spatialMergeSize(), imageTokens = withImage ? gm * gm : 0;
        int[] ids = new int[batch * n];
        int[] lengths = new int[batch];
        long[][][] pos = new long[batch][3][n];
        long[] next = new long[batch];
        for (int b = 0; b < batch; b++) {
            int[] s = sequences.get(b);
            lengths[b] = s.length;
            long p = 0;
            for (int i = 0; i < n; i++) {
                ids[b * n + i] = i < s.length ? s[i] : padId;
                if (withImage && i >= IMAGE_OFFSET && i < IMAGE_OFFSET + imageTokens) {
                    int cell = i - IMAGE_OFFSET;
                    pos[b][0][i] = IMAGE_OFFSET;
                    pos[b][1][i] = IMAGE_OFFSET + cell / gm;
                    pos[b][2][i] = IMAGE_OFFSET + cell % gm;
                    if (cell == imageTokens - 1) p = IMAGE_OFFSET + gm;
                } else {
                    pos[b][0][i] = pos[b][1][i] = pos[b][2][i] = p++;
                }
                if (i == s.length - 1) next[b] = p;
            }
        }
        return new PromptBatch(Nd4j.createFromArray(ids).reshape(batch, n), lengths, pos, next, withImage);
    }

    public int batch() {
        return lengths.length;
    }

    public int length() {
        return (int) ids.size(1);
    }

    public INDArray[] rope(LatteConfig c) {
        return Rope.mrope(positions, c.headDim(), c.ropeTheta(), c.mropeSection());
    }

    /** Causal over real tokens: query i sees key j when j <= i and j is not padding (padding rows stay finite). */
    public INDArray causalMask() {
        int batch = batch(), n = length();
        float[] m = new float[batch * n * n];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    m[(b * n + i) * n + j] = j <= i && j < lengths[b] ? 0 : MASKED;
        return Nd4j.create(m, new long[]{batch, 1, n, n}, 'c');
    }

    /** (batch, 1, 1, n): what a later query (an image token or a decoded token) may see of this prompt. */
    public INDArray keyMask() {
        int batch = batch(), n = length();
        float[] m = new float[batch * n];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < n; j++) m[b * n + j] = j < lengths[b] ? 0 : MASKED;
        return Nd4j.create(m, new long[]{batch, 1, 1, n}, 'c');
    }
}
