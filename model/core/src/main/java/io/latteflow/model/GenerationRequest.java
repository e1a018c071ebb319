package io.latteflow.model;

/**
 * A caption to draw. {@code steps} and {@code guidance} null mean the model's defaults.
 *
 * <pre>{@code
 * GenerationRequest r = GenerationRequest.of("a red apple").withSteps(20).withGuidance(4.0).withSeed(7);
 * }</pre>
 *
 * @param prompt   the caption; the empty string is the unconditional prompt
 * @param steps    Euler steps T' (>= 1)
 * @param guidance classifier-free guidance scale s (>= 0; 1 = no guidance)
 * @param seed     seed of this image's noise; the same request gives the same image in any batch
 */
public record GenerationRequest(String prompt, Integer steps, Double guidance, long seed) {
    public GenerationRequest {
        if (prompt == null) throw new IllegalArgumentException("prompt must not be null (use \"\" for an unconditional image)");
        if (steps != null && steps <= 0) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (guidance != null && (guidance.isNaN() || guidance.isInfinite() || guidance < 0)) {
            throw new IllegalArgumentException("guidance must be a finite number >= 0, got " + guidance);
        }
    }

    public static GenerationRequest of(String prompt) {
        return new GenerationRequest(prompt, null, null, 0);
    }

    public GenerationRequest withSteps(int s) { return new GenerationRequest(prompt, s, guidance, seed); }
    public GenerationRequest withGuidance(double g) { return new GenerationRequest(prompt, steps, g, seed); }
    public GenerationRequest withSeed(long s) { return new GenerationRequest(prompt, steps, guidance, s); }
}
