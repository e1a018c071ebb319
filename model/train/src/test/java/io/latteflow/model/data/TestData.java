package io.latteflow.model.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the tests find the repository and the fetched data sets (the data is read by *ITCase tests only). */
public final class TestData {
    private TestData() {
    }

    /** The repository root: the nearest folder up from the working directory (model/train/ under Maven) holding mvnw. */
    public static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("model"))) return p;
        }
        throw new IllegalStateException("no repository root (a folder with mvnw and model/) above " + Path.of("").toAbsolutePath());
    }

    /** $LATTE_DATA, else the repository's data/ (tests run in model/train/, where ./data is not). */
    public static Path dataRoot() {
        String env = System.getenv(DataRoot.ENV);
        Path root = env == null || env.isBlank() ? repoRoot().resolve("data") : Path.of(env);
        if (!Files.isDirectory(root.resolve(FashionMnist.FOLDER)) || !Files.isDirectory(root.resolve(Mnist.FOLDER))) {
            throw new AssertionError("the MNIST data sets are not in " + root + "; run `" + DataException.FETCH_COMMAND + "` first");
        }
        return root;
    }
}
