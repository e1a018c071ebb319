package io.latteflow.flink;

import java.util.Objects;

/**
 * A caption to draw, as a Flink POJO. {@code steps}, {@code guidance} and {@code seed} null mean the model's
 * defaults (the seed then comes from the id, so a replayed request draws the same picture).
 *
 * <pre>{@code
 * DataStream<ImageRequest> prompts = env.fromData(ImageRequest.of("r1", "red apple"), ImageRequest.of("r2", "cat").withSteps(30));
 * }</pre>
 */
public class ImageRequest {
    /** Identifies the request in its result or dead letter. */
    public String id;
    /** Groups requests for keyed state; null means the id. */
    public String key;
    public String prompt;
    public Integer steps;
    public Double guidance;
    public Long seed;

    public ImageRequest() {
    }

    public static ImageRequest of(String id, String prompt) {
        ImageRequest r = new ImageRequest();
        r.id = id;
        r.prompt = prompt;
        return r;
    }

    public ImageRequest withSteps(Integer s) { ImageRequest r = copy(); r.steps = s; return r; }
    public ImageRequest withGuidance(Double g) { ImageRequest r = copy(); r.guidance = g; return r; }
    public ImageRequest withSeed(Long s) { ImageRequest r = copy(); r.seed = s; return r; }
    public ImageRequest withKey(String k) { ImageRequest r = copy(); r.key = k; return r; }

    private ImageRequest copy() {
        ImageRequest r = new ImageRequest();
        r.id = id;
        r.key = key;
        r.prompt = prompt;
        r.steps = steps;
        r.guidance = guidance;
        r.seed = seed;
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageRequest r && Objects.equals(id, r.id) && Objects.equals(key, r.key) && Objects.equals(prompt, r.prompt)
                && Objects.equals(steps, r.steps) && Objects.equals(guidance, r.guidance) && Objects.equals(seed, r.seed);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, key, prompt, steps, guidance, seed);
    }

    @Override
    public String toString() {
        return "ImageRequest{id=" + id + ", prompt=" + Text.quote(prompt) + ", steps=" + steps + ", guidance=" + guidance + ", seed=" + seed + "}";
    }
}
