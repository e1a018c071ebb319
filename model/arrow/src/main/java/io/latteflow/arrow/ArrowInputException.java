package io.latteflow.arrow;

import java.io.IOException;

/**
 * Input that {@link ArrowScorer} cannot score at all: a missing or wrongly typed column (the message names the
 * expected schema), a file that is not Arrow IPC or is damaged, or a {@code resume} that does not match the
 * unfinished run. Problems with single rows never throw; they go to the row's {@code error} column.
 *
 * <pre>{@code
 * try {
 *     scorer.score(in, out);
 * } catch (ArrowInputException e) {
 *     System.err.println(e.getMessage());   // e.g. "column 'prompt' is int64, expected utf8; expected schema: ..."
 * }
 * }</pre>
 */
public final class ArrowInputException extends IOException {
    public ArrowInputException(String message) {
        super(message);
    }

    public ArrowInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
