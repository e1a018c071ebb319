package io.latteflow.arrow;

/**
 * Progress callbacks from {@link ArrowScorer}, called on the scoring thread after each batch is safely written.
 *
 * <pre>{@code
 * ScoreListener printer = new ScoreListener() {
 *     public void batchWritten(long rowsDone, int rows, int failed, double millis) {
 *         System.err.printf("%d rows done (%d failed in the last batch)%n", rowsDone, failed);
 *     }
 * };
 * }</pre>
 */
public interface ScoreListener {
    /**
     * Called once before scoring.
     *
     * @param totalRows   rows in the input, or -1 when unknown (an IPC stream is not counted ahead)
     * @param resumedRows rows already finished by an earlier, interrupted run and not scored again
     */
    default void started(long totalRows, long resumedRows) {
    }

    /**
     * Called after a batch reached the disk.
     *
     * @param rowsDone rows finished so far, resumed ones included
     * @param rows     rows in this batch
     * @param failed   rows of this batch whose {@code error} is set
     * @param millis   wall time of the model call for this batch
     */
    default void batchWritten(long rowsDone, int rows, int failed, double millis) {
    }

    /** A listener that ignores everything. */
    ScoreListener NONE = new ScoreListener() {
    };
}
