package io.latteflow.flink;

/**
 * A drawn picture: the PNG and the settings that made it.
 *
 * <pre>{@code
 * results.map(r -> r.id + " " + r.png.length + " bytes in a batch of " + r.batchSize);
 * }</pre>
 */
public class ImageResult {
    public String id;
    public String key;
    public String prompt;
    /** The image, PNG-encoded. */
    public byte[] png;
    public int steps;
    public double guidance;
    public long seed;
    /** Requests in the model call that drew it. */
    public int batchSize;
    /** From the request's arrival at the operator to its result, in ms of processing time. */
    public double latencyMs;

    public ImageResult() {
    }

    @Override
    public String toString() {
        return "ImageResult{id=" + id + ", prompt=" + Text.quote(prompt) + ", png=" + (png == null ? 0 : png.length) + " bytes, steps=" + steps
                + ", guidance=" + guidance + ", seed=" + seed + ", batchSize=" + batchSize + "}";
    }
}
