package io.latteflow.model.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Scratch files for the fuzz tests (issue 19): the parsers under test read paths, so every input is written to a
 * file first, in one folder per JVM (under /dev/shm when there is one, so a million inputs never touch the disk),
 * removed when the JVM exits.
 */
public final class FuzzFiles {
    private static final Path ROOT = create();

    private FuzzFiles() {
    }

    private static Path create() {
        try {
            Path shm = Path.of("/dev/shm");
            Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "latte-fuzz-")
                    : Files.createTempDirectory("latte-fuzz-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An empty folder of its own (emptied first if an earlier input left files in it). */
    public static Path folder(String name) {
        Path dir = ROOT.resolve(name);
        deleteTree(dir);
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code bytes} written to {@code dir/name}, replacing what was there. */
    public static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code bytes} written to a file named {@code name} in the JVM's scratch folder. */
    public static Path write(String name, byte[] bytes) {
        return write(ROOT, name, bytes);
    }

    /**
     * The check every target makes of the exception a parser refuses an input with: it must say what is wrong, in a
     * message; an exception without one is as unhelpful to a user as a crash.
     */
    public static void requireMessage(Throwable e) {
        if (e.getMessage() == null || e.getMessage().isBlank()) {
            throw new AssertionError("refused without a message: " + e.getClass().getName(), e);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // scratch space; what is left is removed with the folder at exit or by the OS
        }
    }
}
