package io.latteflow.arrow;

/**
 * What {@link ArrowScorer} does with each row.
 *
 * <pre>{@code
 * ArrowScorer scorer = ArrowScorer.builder(flow).mode(ScoreMode.VQA).build();
 * }</pre>
 */
public enum ScoreMode {
    /** Caption to image: reads {@code prompt} (and optional {@code seed}, {@code steps}, {@code guidance}), adds {@code image}. */
    GENERATE,
    /** Visual question answering: reads {@code image} and {@code question}, adds {@code answer}. */
    VQA
}
