package io.latteflow.model.vlm;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.nn.Rope;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * Turns images into the ViT's patch rows the way Qwen2-VL's processor does: CLIP normalisation, a still image
 * repeated over the temporal patch, and patches ordered so that each 2x2 merge window is contiguous.
 */
public final class ImagePatches {
    /** CLIP's normalisation, which Qwen2-VL's processor uses. */
    public static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

    private ImagePatches() {
    }

    /**
     * @param images each (3, size, size) with values in [0, 1]
     * @return (batch, patches, 3*T*p*p)
     */
    public static INDArray patches(LatteConfig c, List<INDArray> images) {
        int size = c.imageSize(), dim = 3 * c.temporalPatchSize() * c.patchSize() * c.patchSize();
        float[] out = new float[images.size() * c.visionPatches() * dim];
        int at = 0;
        for (INDArray image : images) {
            checkImage(c, image);
            float[] px = image.dup('c').data().asFloat();
            for (int i = 0; i < px.length; i++) px[i] = (px[i] - MEAN[i / (size * size)]) / STD[i / (size * size)];
            float[] rows = flatten(c, px, size, size);
            System.arraycopy(rows, 0, out, at, rows.length);
            at += rows.length;
        }
        return Nd4j.create(out, new long[]{images.size(), c.visionPatches(), dim}, 'c');
    }

    /**
     * Normalised (3, height, width) pixels as (gridH * gridW) rows of 3*T*p*p features: each patch's channels, its
     * frame repeated over the temporal patch, then its p x p pixels; patches in {@link #order} order.
     */
    public static float[] flatten(LatteConfig c, float[] px, int height, int width) {
        int p = c.patchSize(), t = c.temporalPatchSize();
        int[][] cells = order(height / p, width / p, c.spatialMergeSize());
        float[] out = new float[cells.length * 3 * t * p * p];
        int at = 0;
        for (int[] cell : cells) {
            for (int ch = 0; ch < 3; ch++)
                for (int frame = 0; frame < t; frame++)
                    for (int y = 0; y < p; y++)
                        for (int x = 0; x < p; x++) out[at++] = px[(ch * height + cell[0] * p + y) * width + cell[1] * p + x];
        }
        return out;
    }

    /** The ViT's 2D RoPE table for the patch order of {@link #patches}. */
    public static INDArray[] rope(LatteConfig c) {
        return rope(c, c.visionGrid(), c.visionGrid());
    }

    /** The ViT's 2D RoPE table for a gridH x gridW patch grid in {@link #order} order: (1, 1, patches, visionHeadDim). */
    public static INDArray[] rope(LatteConfig c, int gridH, int gridW) {
        int[][] cells = order(gridH, gridW, c.spatialMergeSize());
        int[] rows = new int[cells.length], cols = new int[cells.length];
        for (int i = 0; i < cells.length; i++) {
            rows[i] = cells[i][0];
            cols[i] = cells[i][1];
        }
        return Rope.vision2d(rows, cols, c.visionHeadDim(), 10000);
    }

    /** (row, col) of each patch: merge windows in raster order, the patches of a window in raster order. */
    static int[][] order(int gridH, int gridW, int m) {
        int[][] cells = new int[gridH * gridW][];
        int i = 0;
        for (int hb = 0; hb < gridH / m; hb++)
            for (int wb = 0; wb < gridW / m; wb++)
                for (int mh = 0; mh < m; mh++)
                    for (int mw = 0; mw < m; mw++) cells[i++] = new int[]{hb * m + mh, wb * m + mw};
        return cells;
    }

    public static void checkImage(LatteConfig c, INDArray image) {
        long[] s = image.shape();
        if (s.length != 3 || s[0] != 3 || s[1] != c.imageSize() || s[2] != c.imageSize()) {
            throw new IllegalArgumentException("Image must be (3, " + c.imageSize() + ", " + c.imageSize()
                    + ") RGB with values in [0, 1], got shape " + java.util.Arrays.toString(s)
                    + (s.length == 3 && s[0] != 3 ? " (" + s[0] + " channels)" : ""));
        }
    }
}
