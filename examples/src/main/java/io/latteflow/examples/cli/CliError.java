package io.latteflow.examples.cli;

/**
 * Bad input the user can fix (a missing file, an unreadable image, an empty folder): reported as one line,
 * exit code {@value #EXIT_BAD_INPUT}, no stack trace.
 */
public final class CliError extends RuntimeException {
    public static final int EXIT_BAD_INPUT = 2;

    public CliError(String message) {
        super(message);
    }

    public CliError(String message, Throwable cause) {
        super(message, cause);
    }
}
