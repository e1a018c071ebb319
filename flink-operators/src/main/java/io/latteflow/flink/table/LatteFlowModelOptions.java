package io.latteflow.flink.table;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/**
 * The {@code WITH} options of a {@code 'provider' = 'latte-flow'} model. They carry the names of the DataStream
 * options ({@code LatteOptions}) without the {@code latte.} prefix; the first release's names ({@code checkpoint},
 * {@code copies}, {@code batch-size}, {@code batch-timeout}) are still read, as deprecated keys (issue 17).
 *
 * <pre>{@code
 * CREATE MODEL painter INPUT (prompt STRING) OUTPUT (image BYTES, error STRING) WITH (
 *   'provider' = 'latte-flow', 'model' = '/models/latte', 'task' = 'generate',
 *   'steps' = '20', 'guidance' = '4.0', 'seed' = '7', 'max-batch-size' = '8');
 * }</pre>
 */
public final class LatteFlowModelOptions {
    private LatteFlowModelOptions() {
    }

    public static final ConfigOption<String> MODEL = ConfigOptions.key("model")
            .stringType()
            .noDefaultValue()
            .withDescription("Model directory (config.json, model.safetensors, tokenizer.json) as the TaskManagers "
                    + "see it. It is opened when the job starts, not when the query is planned, so it may be a path "
                    + "that only the TaskManagers can read.")
            .withDeprecatedKeys("checkpoint");

    public static final ConfigOption<LatteFlowTask> TASK = ConfigOptions.key("task")
            .enumType(LatteFlowTask.class)
            .defaultValue(LatteFlowTask.GENERATE)
            .withDescription("'generate': INPUT (prompt STRING) OUTPUT (image BYTES) gives PNG bytes. "
                    + "'answer' ('vqa', the first release's name, is still read): INPUT (image BYTES, question STRING) "
                    + "OUTPUT (answer STRING). "
                    + "Either OUTPUT may add an 'error STRING' column that says why a row got no result.");

    public static final ConfigOption<Integer> STEPS = ConfigOptions.key("steps")
            .intType()
            .noDefaultValue()
            .withDescription("generate: Euler sampling steps (>= 1); the checkpoint's default when unset.");

    public static final ConfigOption<Double> GUIDANCE = ConfigOptions.key("guidance")
            .doubleType()
            .noDefaultValue()
            .withDescription("generate: classifier-free guidance scale (>= 0, 1 = none); the checkpoint's default "
                    + "when unset.");

    public static final ConfigOption<Long> SEED = ConfigOptions.key("seed")
            .longType()
            .defaultValue(0L)
            .withDescription("generate: noise seed of every row, so the same prompt always gives the same image.");

    public static final ConfigOption<Integer> MAX_NEW_TOKENS = ConfigOptions.key("max-new-tokens")
            .intType()
            .defaultValue(16)
            .withDescription("vqa: the most answer tokens decoded per row (greedy decoding).");

    public static final ConfigOption<Long> MAX_IMAGE_PIXELS = ConfigOptions.key("max-image-pixels")
            .longType()
            .defaultValue(io.latteflow.model.RequestLimits.DEFAULTS.maxImagePixels())
            .withDescription("vqa: input images declaring more pixels than this are rejected before decoding "
                    + "(decompression bombs); such rows get a null answer.");

    public static final ConfigOption<Integer> MODEL_COPIES = ConfigOptions.key("model-copies")
            .intType()
            .defaultValue(1)
            .withDescription("Model copies loaded per TaskManager JVM, shared by all its subtasks round robin. "
                    + "More than one only helps when the engine can run calls side by side.")
            .withDeprecatedKeys("copies");

    public static final ConfigOption<Integer> MAX_BATCH_SIZE = ConfigOptions.key("max-batch-size")
            .intType()
            .defaultValue(8)
            .withDescription("Async ML_PREDICT only: the most rows sent to the model in one call. Rows in flight "
                    + "are limited by ML_PREDICT's 'max-concurrent-operations', so set that at least this high. "
                    + "Synchronous ML_PREDICT (MAP['async', 'false']) calls the model row by row.")
            .withDeprecatedKeys("batch-size");

    public static final ConfigOption<Duration> MAX_BATCH_DELAY = ConfigOptions.key("max-batch-delay")
            .durationType()
            .defaultValue(Duration.ofMillis(20))
            .withDescription("Async ML_PREDICT only: how long the first waiting row waits for more rows before a "
                    + "partial batch is sent.")
            .withDeprecatedKeys("batch-timeout");
}
