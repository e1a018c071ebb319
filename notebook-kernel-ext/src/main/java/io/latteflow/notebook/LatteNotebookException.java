package io.latteflow.notebook;

/**
 * A mistake the notebook user can fix (bad magic arguments, a missing model, an unknown image); its message is
 * the one line shown in the cell.
 *
 * <pre>{@code
 * throw new LatteNotebookException("--steps must be a whole number >= 1, got 'ten'");
 * }</pre>
 */
public final class LatteNotebookException extends RuntimeException {
    public LatteNotebookException(String message) {
        super(message);
    }

    public LatteNotebookException(String message, Throwable cause) {
        super(message, cause);
    }
}
