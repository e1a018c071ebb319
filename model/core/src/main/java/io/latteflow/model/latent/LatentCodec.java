package io.latteflow.model.latent;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Maps images to the token rows the flow model denoises and back.
 *
 * <pre>{@code
 * LatentCodec codec = new PixelPatchCodec(32, 4);
 * INDArray tokens = codec.encode(images);   // (batch, 64, 48)
 * INDArray back = codec.decode(tokens);     // (batch, 3, 32, 32) in [0, 1]
 * }</pre>
 */
public interface LatentCodec extends AutoCloseable {
    /** Images (batch, 3, size, size) in [0, 1] to latent tokens (batch, tokens, dim). */
    INDArray encode(INDArray images);

    /** Latent tokens back to images (batch, 3, size, size), clipped to [0, 1]. */
    INDArray decode(INDArray tokens);

    int tokens();

    int dim();

    /** Frees the codec's native memory (weights, plans) now; it is not used afterwards. Nothing to free by default. */
    @Override
    default void close() {
    }
}
