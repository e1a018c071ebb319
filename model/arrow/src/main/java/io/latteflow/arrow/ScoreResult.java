package io.latteflow.arrow;

import java.nio.file.Path;

/**
 * What one {@link ArrowScorer#score} call did.
 *
 * <pre>{@code
 * ScoreResult r = scorer.score(Path.of("prompts.arrow"), Path.of("images.arrow"));
 * System.out.printf("%d rows, %d failed, %.1f rows/s%n", r.rows(), r.failedRows(), r.scoredRows() / r.seconds());
 * }</pre>
 *
 * @param output          the finished Arrow IPC file
 * @param rows            rows in the output (equal to the input's)
 * @param scoredRows      rows scored by this call
 * @param resumedRows     rows taken over from an interrupted run
 * @param failedRows      rows scored by this call whose {@code error} is set
 * @param batches         batches scored by this call
 * @param seconds         wall time of this call
 * @param peakArrowBytes  the largest off-heap Arrow memory held at once
 */
public record ScoreResult(Path output, long rows, long scoredRows, long resumedRows, long failedRows, long batches,
                          double seconds, long peakArrowBytes) {
}
