package io.latteflow.model.data;

/**
 * Unchecked; a data folder is missing, incomplete or corrupt. The message names the path and says to run
 * {@code ./latte data fetch}.
 *
 * <pre>{@code
 * throw DataException.missing(Path.of("data/emoji"));
 * }</pre>
 */
public class DataException extends RuntimeException {
    /** The command that fetches every data set; each message ends with it so the fix is one copy-paste away. */
    public static final String FETCH_COMMAND = "./latte data fetch";

    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "PATH is missing; run `./latte data fetch`". */
    public static DataException missing(java.nio.file.Path path) {
        return new DataException(path + " is missing; run `" + FETCH_COMMAND + "` (or data/fetch.sh) to download the data sets");
    }

    /** "PATH is corrupt or incomplete (why); run `./latte data fetch --force`" (a plain fetch keeps complete-looking sets). */
    public static DataException corrupt(java.nio.file.Path path, String why, Throwable cause) {
        return new DataException(path + " is corrupt or incomplete (" + why + "); run `" + FETCH_COMMAND
                + " --force` (or data/fetch.sh --force) to download the data sets again", cause);
    }
}
