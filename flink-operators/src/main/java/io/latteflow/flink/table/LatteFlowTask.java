package io.latteflow.flink.table;

/**
 * What a {@code latte-flow} SQL model does with each row, chosen by its {@code 'task'} option.
 *
 * <pre>{@code
 * CREATE MODEL painter INPUT (prompt STRING) OUTPUT (image BYTES)
 *   WITH ('provider' = 'latte-flow', 'model' = '/models/latte', 'task' = 'generate');
 * CREATE MODEL reader INPUT (image BYTES, question STRING) OUTPUT (answer STRING)
 *   WITH ('provider' = 'latte-flow', 'model' = '/models/latte', 'task' = 'answer');
 * }</pre>
 */
public enum LatteFlowTask {
    /** Caption in, PNG bytes out. */
    GENERATE,
    /** Encoded image and question in, answer text out: the operation every front door calls "answer". */
    ANSWER,
    /** The first release's name of {@link #ANSWER}, still read ({@code 'task' = 'vqa'}). */
    @Deprecated
    VQA
}
