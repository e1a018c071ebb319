package io.latteflow.model.latent;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The latent space of small images: pixels scaled to [-1, 1], cut into p x p patches in raster order,
 * each patch a token of 3 p p values (channel-major).
 */
public final class PixelPatchCodec implements LatentCodec {
    private final int size, patch;

    public PixelPatchCodec(int size, int patch) {
        if (size % patch != 0) throw new IllegalArgumentException("Image size " + size + " is not a multiple of patch " + patch);
        this.size = size;
        this.patch = patch;
    }

    @Override
    public INDArray encode(INDArray images) {
        long[] s = images.shape();
        if (s.length != 4 || s[1] != 3 || s[2] != size || s[3] != size) {
            throw new IllegalArgumentException("Images must be (batch, 3, " + size + ", " + size + "), got " + java.util.Arrays.toString(s));
        }
        int g = size / patch;
        INDArray x = images.mul(2).subi(1).reshape('c', s[0], 3, g, patch, g, patch);  // (b, c, gi, py, gj, px)
        return x.permute(0, 2, 4, 1, 3, 5).dup('c').reshape(s[0], (long) g * g, 3L * patch * patch);
    }

    @Override
    public INDArray decode(INDArray tokens) {
        long b = tokens.size(0);
        int g = size / patch;
        INDArray x = tokens.reshape('c', b, g, g, 3, patch, patch).permute(0, 3, 1, 4, 2, 5).dup('c')
                .reshape(b, 3, size, size);
        return Transforms.min(Transforms.max(x.add(1).divi(2), 0.0), 1.0);
    }

    @Override
    public int tokens() {
        return (size / patch) * (size / patch);
    }

    @Override
    public int dim() {
        return 3 * patch * patch;
    }
}
