package io.latteflow.flink.table;

/**
 * What a {@code latte-flow} SQL model does with each row, chosen by its {@code 'task'} option.
 *
 * <pre>{@code
 * CREATE MODEL painter INPUT (prompt STRING) OUTPUT (image BYTES)
 *   WITH ('provider' = 'latte-flow', 'checkpoint' = '/models/latte', 'task' = 'generate');
 * CREATE MODEL reader INPUT (image BYTES, question STRING) OUTPUT (answer STRING)
 *   WITH ('provider' = 'latte-flow', 'checkpoint' = '/models/latte', 'task' = 'vqa');
 * }</pre>
 */
public enum LatteFlowTask {
    /** Caption in, PNG bytes out. */
    GENERATE,
    /** Encoded image and question in, answer text out. */
    VQA
}
