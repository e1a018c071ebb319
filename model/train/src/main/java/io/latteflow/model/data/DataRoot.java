package io.latteflow.model.data;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the fetched data sets live: {@code $LATTE_DATA}, else the checkout's {@code data} folder, in the layout
 * {@code data/fetch.sh} writes: {@code emoji/}, {@code fashion-mnist/}, {@code mnist/}, each with a
 * {@code .complete-<set>} marker beside it.
 *
 * <pre>{@code
 * Path emoji = DataRoot.resolve().require("emoji");   // DataException naming data/emoji if it is not there
 * }</pre>
 */
public record DataRoot(Path dir) {
    /** Environment variable that overrides the default data folder. */
    public static final String ENV = "LATTE_DATA";

    public DataRoot {
        dir = dir.toAbsolutePath().normalize();
    }

    /**
     * {@code $LATTE_DATA} if set; else {@code <latte.home>/data} when the {@code latte.home} system property is set
     * (the {@code ./latte} launcher sets it); else the {@code data} folder of the nearest enclosing checkout (a
     * folder whose {@code data/fetch.sh} exists, so tests running in {@code model/} find the repository's data);
     * else {@code ./data}.
     */
    public static DataRoot resolve() {
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) return new DataRoot(Path.of(env));
        String home = System.getProperty("latte.home");
        if (home != null && !home.isBlank()) return new DataRoot(Path.of(home, "data"));
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("data").resolve("fetch.sh"))) return new DataRoot(p.resolve("data"));
        }
        return new DataRoot(Path.of("data"));
    }

    /** The folder of {@code set} (e.g. "emoji"), checked to exist and to carry the fetch script's completion marker. */
    public Path require(String set) {
        Path folder = dir.resolve(set);
        if (!Files.isDirectory(folder)) throw DataException.missing(folder);
        // The marker is written last, so a folder without it is a fetch that stopped half way.
        Path marker = dir.resolve(".complete-" + set);
        if (!Files.isRegularFile(marker)) {
            throw new DataException(folder + " is incomplete (no " + marker + " marker: the fetch did not finish); run `"
                    + DataException.FETCH_COMMAND + "` (or data/fetch.sh) to complete it");
        }
        return folder;
    }
}
