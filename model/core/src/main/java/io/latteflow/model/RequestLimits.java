package io.latteflow.model;

/**
 * The limits every front door applies to a request (CLI, Flink DataStream and SQL, Arrow, notebook), with one
 * default each and one wording for each refusal, so that the same request is refused with the same words wherever
 * it arrives (issue 17). A front door maps a refusal to its own reporting: exit code 2 and one line on the CLI, a dead
 * letter in Flink, the row's {@code error} in SQL and Arrow, a one-line error in a notebook.
 *
 * <pre>{@code
 * String why = RequestLimits.DEFAULTS.refusal(GenerationRequest.of("red apple").withSteps(5000));
 * // "steps 5000 is outside [1, 1000]"
 * BufferedImage img = ImageBytes.decode(bytes, RequestLimits.DEFAULTS.maxImagePixels());
 * }</pre>
 *
 * @param maxSteps       most Euler steps a request may ask for
 * @param maxGuidance    largest classifier-free guidance scale
 * @param maxPromptChars longest caption or question, in characters
 * @param maxImagePixels largest image a request may carry, checked on its header before decoding
 * @param maxNewTokens   most answer tokens a question may ask for
 */
public record RequestLimits(int maxSteps, double maxGuidance, int maxPromptChars, long maxImagePixels, int maxNewTokens) {
    /** Requests per model call where a front door batches (Flink, SQL, Arrow), unless the user says otherwise. */
    public static final int DEFAULT_BATCH_SIZE = 16;

    /** 1000 steps, guidance 50, 500 characters, 4096 x 4096 pixels, 256 answer tokens. */
    public static final RequestLimits DEFAULTS = new RequestLimits(1000, 50.0, 500, 4096L * 4096, 256);

    public RequestLimits {
        if (maxSteps < 1 || !(maxGuidance >= 0) || Double.isInfinite(maxGuidance) || maxPromptChars < 1 || maxImagePixels < 1
                || maxNewTokens < 1) {
            throw new IllegalArgumentException("request limits must be positive (guidance finite and >= 0): steps " + maxSteps
                    + ", guidance " + maxGuidance + ", prompt characters " + maxPromptChars + ", image pixels " + maxImagePixels
                    + ", new tokens " + maxNewTokens);
        }
    }

    /** Why a generation request is refused, or null if it is within the limits. */
    public String refusal(GenerationRequest r) {
        return generationRefusal(r.prompt(), r.steps(), r.guidance());
    }

    /** As {@link #refusal(GenerationRequest)}, for the fields of a request not built yet (null steps or guidance: the model's). */
    public String generationRefusal(String prompt, Integer steps, Double guidance) {
        String text = text("prompt", prompt);
        if (text != null) return text;
        if (steps != null && (steps < 1 || steps > maxSteps)) return "steps " + steps + " is outside [1, " + maxSteps + "]";
        if (guidance != null && !(guidance >= 0 && guidance <= maxGuidance)) return "guidance " + guidance + " is outside [0, " + maxGuidance + "]";
        return null;
    }

    /**
     * Why a generation request asks for more work than these limits allow (steps, guidance), or null. What the core
     * itself applies to every request (issue 17); the text rules ({@link #refusal(GenerationRequest)}) are the front
     * doors', since the Java API draws from an empty prompt (unconditional samples).
     */
    public String workRefusal(GenerationRequest r) {
        return generationRefusal("-", r.steps(), r.guidance());
    }

    /** Why a question is refused (its text), or null. */
    public String questionRefusal(String question) {
        return text("question", question);
    }

    /** Why a question of a VQA request is refused (its text and the answer length it asks for), or null. */
    public String refusal(VqaRequest r) {
        String text = questionRefusal(r.question());
        if (text != null) return text;
        return workRefusal(r);
    }

    /** Why a VQA request asks for a longer answer than these limits allow, or null (applied by the core). */
    public String workRefusal(VqaRequest r) {
        if (r.maxNewTokens() > maxNewTokens) return "max new tokens " + r.maxNewTokens() + " is outside [1, " + maxNewTokens + "]";
        return null;
    }

    /** @throws IllegalArgumentException with {@link #refusal(GenerationRequest)} when the request is refused */
    public GenerationRequest check(GenerationRequest r) {
        String why = refusal(r);
        if (why != null) throw new IllegalArgumentException(why);
        return r;
    }

    /** @throws IllegalArgumentException with {@link #refusal(VqaRequest)} when the request is refused */
    public VqaRequest check(VqaRequest r) {
        String why = refusal(r);
        if (why != null) throw new IllegalArgumentException(why);
        return r;
    }

    private String text(String what, String text) {
        if (text == null) return what + " is null";
        if (text.isBlank()) return what + " is empty";
        if (text.length() > maxPromptChars) return what + " has " + text.length() + " characters, more than the limit of " + maxPromptChars;
        return null;
    }
}
