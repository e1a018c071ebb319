package io.latteflow.flink;

/**
 * A request the operator could not serve, with the reason; the job goes on.
 *
 * <pre>{@code
 * LatteResults<ImageResult> out = LatteStreams.generate(prompts, options);
 * out.deadLetters().map(d -> d.id + ": " + d.reason).print();
 * }</pre>
 */
public class DeadLetter {
    public String id;
    /** {@code generate} or {@code answer}. */
    public String task;
    /** Why it was refused, e.g. "prompt is empty" or "image declares 100000x100000 pixels, ...". */
    public String reason;
    /** A short description of the request (long texts are cut, image bytes summarised). */
    public String request;

    public DeadLetter() {
    }

    public static DeadLetter of(String id, String task, String reason, Object request) {
        DeadLetter d = new DeadLetter();
        d.id = id;
        d.task = task;
        d.reason = reason;
        d.request = String.valueOf(request);
        return d;
    }

    @Override
    public String toString() {
        return "DeadLetter{id=" + id + ", task=" + task + ", reason=" + reason + "}";
    }
}
