package io.latteflow.flink;

import io.latteflow.model.RequestLimits;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.time.Duration;

/**
 * Settings of the LaTtE-Flow operators, as typed Flink options with descriptions and defaults. Build them in code
 * or read them from a Flink configuration ({@code latte.model: /models/latte-emoji} in the job's config).
 *
 * <pre>{@code
 * LatteOptions options = LatteOptions.builder()
 *         .model("models/latte-emoji")
 *         .maxBatchSize(16)
 *         .maxBatchDelay(Duration.ofMillis(50))
 *         .build();
 * }</pre>
 */
public final class LatteOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final ConfigOption<String> MODEL = ConfigOptions.key("latte.model").stringType().noDefaultValue()
            .withDescription("Model directory (config.json, model.safetensors, tokenizer.json), readable by every TaskManager.");
    public static final ConfigOption<Integer> MODEL_COPIES = ConfigOptions.key("latte.model-copies").intType().defaultValue(1)
            .withDescription("Copies of the model loaded per TaskManager JVM; subtasks share them round robin.");
    public static final ConfigOption<Integer> MAX_BATCH_SIZE = ConfigOptions.key("latte.max-batch-size").intType().defaultValue(RequestLimits.DEFAULT_BATCH_SIZE)
            .withDescription("Requests per model call; a batch is run as soon as it is full.");
    public static final ConfigOption<Duration> MAX_BATCH_DELAY = ConfigOptions.key("latte.max-batch-delay").durationType()
            .defaultValue(Duration.ofMillis(50))
            .withDescription("Longest time (processing time) the first request of an unfilled batch waits before the batch runs anyway.");
    public static final ConfigOption<Batching> BATCHING = ConfigOptions.key("latte.batching").enumType(Batching.class)
            .defaultValue(Batching.STATIC)
            .withDescription("How image requests share model calls. STATIC: a batch is sampled from noise to image before the next "
                    + "batch starts. CONTINUOUS: every model call runs one expert group on all images in flight whose current step "
                    + "it owns (at most max-batch-size), and new requests join at the next call. Questions are always batched statically.");
    public static final ConfigOption<Integer> MAX_PROMPT_CHARS = ConfigOptions.key("latte.max-prompt-chars").intType().defaultValue(RequestLimits.DEFAULTS.maxPromptChars())
            .withDescription("Longest prompt or question accepted (characters); longer ones go to the dead-letter output.");
    public static final ConfigOption<Integer> MAX_STEPS = ConfigOptions.key("latte.max-steps").intType().defaultValue(RequestLimits.DEFAULTS.maxSteps())
            .withDescription("Most Euler steps a request may ask for.");
    public static final ConfigOption<Double> MAX_GUIDANCE = ConfigOptions.key("latte.max-guidance").doubleType().defaultValue(RequestLimits.DEFAULTS.maxGuidance())
            .withDescription("Largest classifier-free guidance scale a request may ask for.");
    public static final ConfigOption<Integer> MAX_IMAGE_BYTES = ConfigOptions.key("latte.max-image-bytes").intType()
            .defaultValue(8 * 1024 * 1024).withDescription("Largest encoded image accepted in a VQA request (bytes).");
    public static final ConfigOption<Long> MAX_IMAGE_PIXELS = ConfigOptions.key("latte.max-image-pixels").longType()
            .defaultValue(RequestLimits.DEFAULTS.maxImagePixels())
            .withDescription("Largest declared image (width x height) decoded; checked in the header, before decoding.");
    public static final ConfigOption<Integer> CONTEXT_CACHE_SIZE = ConfigOptions.key("latte.context-cache-size").intType()
            .defaultValue(256)
            .withDescription("Captions whose prefilled context (every layer's K/V) the model keeps in memory, least recently used "
                    + "dropped first; a repeated caption and the empty caption of guided requests then skip the VLM prefill. "
                    + "Shared by the operators using the same model in a TaskManager (the largest size asked for wins). 0 = off.");
    public static final ConfigOption<Integer> MAX_NEW_TOKENS = ConfigOptions.key("latte.max-new-tokens").intType().defaultValue(16)
            .withDescription("Most tokens an answer may have.");

    /** How image requests share model calls; see {@link #BATCHING}. */
    public enum Batching { STATIC, CONTINUOUS }

    private final Configuration conf;

    private LatteOptions(Configuration conf) {
        this.conf = conf;
        String model = conf.get(MODEL);
        if (model == null || model.isBlank()) throw new IllegalArgumentException("latte.model is not set: give the model directory");
        positive(MODEL_COPIES);
        positive(MAX_BATCH_SIZE);
        positive(MAX_PROMPT_CHARS);
        positive(MAX_STEPS);
        positive(MAX_IMAGE_BYTES);
        positive(MAX_NEW_TOKENS);
        if (conf.get(MAX_BATCH_DELAY).isNegative()) throw new IllegalArgumentException("latte.max-batch-delay must not be negative");
        if (!(conf.get(MAX_GUIDANCE) >= 0)) throw new IllegalArgumentException("latte.max-guidance must be >= 0");
        if (conf.get(CONTEXT_CACHE_SIZE) < 0) {
            throw new IllegalArgumentException(CONTEXT_CACHE_SIZE.key() + " must be >= 0, got " + conf.get(CONTEXT_CACHE_SIZE));
        }
        if (conf.get(MAX_IMAGE_PIXELS) < 1) throw new IllegalArgumentException("latte.max-image-pixels must be >= 1");
    }

    private void positive(ConfigOption<Integer> option) {
        if (conf.get(option) < 1) throw new IllegalArgumentException(option.key() + " must be >= 1, got " + conf.get(option));
    }

    /** Options from a Flink configuration (unset keys take their defaults). */
    public static LatteOptions from(ReadableConfig config) {
        Configuration c = new Configuration();
        for (ConfigOption<?> o : new ConfigOption<?>[]{MODEL, MODEL_COPIES, MAX_BATCH_SIZE, MAX_BATCH_DELAY, BATCHING, MAX_PROMPT_CHARS,
                MAX_STEPS, MAX_GUIDANCE, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_NEW_TOKENS, CONTEXT_CACHE_SIZE}) {
            copy(config, c, o);
        }
        return new LatteOptions(c);
    }

    private static <T> void copy(ReadableConfig from, Configuration to, ConfigOption<T> option) {
        from.getOptional(option).ifPresent(v -> to.set(option, v));
    }

    public static Builder builder() {
        return new Builder();
    }

    public String model() { return conf.get(MODEL); }
    public int modelCopies() { return conf.get(MODEL_COPIES); }
    public int maxBatchSize() { return conf.get(MAX_BATCH_SIZE); }
    public Duration maxBatchDelay() { return conf.get(MAX_BATCH_DELAY); }
    public Batching batching() { return conf.get(BATCHING); }
    public int maxPromptChars() { return conf.get(MAX_PROMPT_CHARS); }
    /** These options' request limits, applied with the core's words (issue 17). */
    public RequestLimits limits() {
        return new RequestLimits(maxSteps(), maxGuidance(), maxPromptChars(), maxImagePixels(),
                Math.max(maxNewTokens(), RequestLimits.DEFAULTS.maxNewTokens()));
    }
    public int maxSteps() { return conf.get(MAX_STEPS); }
    public double maxGuidance() { return conf.get(MAX_GUIDANCE); }
    public int maxImageBytes() { return conf.get(MAX_IMAGE_BYTES); }
    public long maxImagePixels() { return conf.get(MAX_IMAGE_PIXELS); }
    public int maxNewTokens() { return conf.get(MAX_NEW_TOKENS); }
    public int contextCacheSize() { return conf.get(CONTEXT_CACHE_SIZE); }

    /** The options as a Flink configuration. */
    public Configuration toConfiguration() {
        return new Configuration(conf);
    }

    @Override
    public String toString() {
        return conf.toMap().toString();
    }

    /** Sets options one by one; {@link #build()} validates them. */
    public static final class Builder {
        private final Configuration conf = new Configuration();

        public Builder model(String dir) { conf.set(MODEL, dir); return this; }
        public Builder modelCopies(int n) { conf.set(MODEL_COPIES, n); return this; }
        public Builder maxBatchSize(int n) { conf.set(MAX_BATCH_SIZE, n); return this; }
        public Builder maxBatchDelay(Duration d) { conf.set(MAX_BATCH_DELAY, d); return this; }
        public Builder batching(Batching b) { conf.set(BATCHING, b); return this; }
        public Builder maxPromptChars(int n) { conf.set(MAX_PROMPT_CHARS, n); return this; }
        public Builder maxSteps(int n) { conf.set(MAX_STEPS, n); return this; }
        public Builder maxGuidance(double g) { conf.set(MAX_GUIDANCE, g); return this; }
        public Builder maxImageBytes(int n) { conf.set(MAX_IMAGE_BYTES, n); return this; }
        public Builder maxImagePixels(long n) { conf.set(MAX_IMAGE_PIXELS, n); return this; }
        public Builder maxNewTokens(int n) { conf.set(MAX_NEW_TOKENS, n); return this; }
        public Builder contextCacheSize(int n) { conf.set(CONTEXT_CACHE_SIZE, n); return this; }

        public LatteOptions build() {
            return new LatteOptions(new Configuration(conf));
        }
    }
}
