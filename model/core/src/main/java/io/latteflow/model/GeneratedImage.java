package io.latteflow.model;

import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A generated picture with the request that made it.
 *
 * <pre>{@code
 * GeneratedImage img = flow.generate(GenerationRequest.of("a cat"));
 * Files.write(Path.of("cat.png"), img.png());
 * }</pre>
 *
 * @param pixels  (3, size, size) in [0, 1]
 * @param latents (latentTokens, latentDim): the sampler's output before decoding and clipping; null when unknown
 */
public record GeneratedImage(GenerationRequest request, int steps, double guidance, INDArray pixels, INDArray latents) {

    public GeneratedImage(GenerationRequest request, int steps, double guidance, INDArray pixels) {
        this(request, steps, guidance, pixels, null);
    }

    public BufferedImage image() {
        return Images.toBufferedImage(pixels);
    }

    public byte[] png() {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(image(), "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
