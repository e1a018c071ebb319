package io.latteflow.model.flow;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DiT's fixed 2D sine-cosine position embedding, added to image tokens after a group's input projection.
 * 2D RoPE alone gives attention only relative offsets; at the noisiest timesteps the image tokens carry no content
 * to tell cells apart, so each cell needs to know where it is to draw its part of the picture.
 */
public final class PositionEmbedding {
    private PositionEmbedding() {
    }

    /** (grid*grid, d): the first half of each row encodes the row index, the second half the column. */
    public static INDArray sincos2d(int grid, int d) {
        int quarter = d / 4;
        float[] out = new float[grid * grid * d];
        for (int i = 0; i < grid; i++)
            for (int j = 0; j < grid; j++) {
                int row = (i * grid + j) * d;
                for (int f = 0; f < quarter; f++) {
                    double omega = Math.pow(10000, -(double) f / quarter);
                    out[row + f] = (float) Math.sin(i * omega);
                    out[row + quarter + f] = (float) Math.cos(i * omega);
                    out[row + 2 * quarter + f] = (float) Math.sin(j * omega);
                    out[row + 3 * quarter + f] = (float) Math.cos(j * omega);
                }
            }
        return Nd4j.create(out, new long[]{(long) grid * grid, d}, 'c');
    }
}
