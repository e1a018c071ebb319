package io.latteflow.arrow;

/**
 * What {@link ArrowScorer} does with each row.
 *
 * <pre>{@code
 * ArrowScorer scorer = ArrowScorer.builder(flow).mode(ScoreMode.ANSWER).build();
 * }</pre>
 */
public enum ScoreMode {
    /** Caption to image: reads {@code prompt} (and optional {@code seed}, {@code steps}, {@code guidance}), adds {@code image}. */
    GENERATE,
    /** Visual question answering ("answer" on every front door): reads {@code image} and {@code question}, adds {@code answer}. */
    ANSWER,
    /** The first release's name of {@link #ANSWER}, still read ({@code --mode vqa}). */
    @Deprecated
    VQA
}
