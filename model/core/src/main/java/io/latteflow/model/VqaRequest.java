package io.latteflow.model;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;

/**
 * A question about an image. Temperature 0 decodes greedily; otherwise nucleus sampling with {@code topP}.
 *
 * <pre>{@code
 * String answer = flow.answer(VqaRequest.of(ImageIO.read(file), "what is this?"));
 * }</pre>
 *
 * @param image (3, imageSize, imageSize) RGB in [0, 1]
 */
public record VqaRequest(INDArray image, String question, int maxNewTokens, double temperature, double topP, long seed) {
    public VqaRequest {
        if (image == null) throw new IllegalArgumentException("image must not be null");
        if (question == null) throw new IllegalArgumentException("question must not be null");
        if (maxNewTokens <= 0) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        if (!(temperature >= 0) || Double.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
    }

    /** Greedy decoding of at most 16 tokens; the image must already have the model's size. */
    public static VqaRequest of(INDArray image, String question) {
        return new VqaRequest(image, question, 16, 0, 1, 0);
    }

    public static VqaRequest of(BufferedImage image, String question) {
        return of(Images.toArray(image), question);
    }

    public VqaRequest withSampling(double temperature, double topP, long seed) {
        return new VqaRequest(image, question, maxNewTokens, temperature, topP, seed);
    }

    public VqaRequest withMaxNewTokens(int n) {
        return new VqaRequest(image, question, n, temperature, topP, seed);
    }
}
