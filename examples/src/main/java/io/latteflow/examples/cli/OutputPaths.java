package io.latteflow.examples.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Output paths checked before any work (issue 19: a read-only folder, a folder where a file belongs or a path under a
 * regular file was reported after the model had loaded and sampled, naming an internal temp file, with exit code 1).
 * Every refusal is a {@link CliError} (exit code 2) naming the option and the path.
 *
 * <pre>{@code
 * OutputPaths.requireWritableFiles("--out", List.of(Path.of("apple.png")), force);
 * OutputPaths.requireWritableFolder("--out", Path.of("demo-out"));
 * }</pre>
 */
final class OutputPaths {
    private OutputPaths() {
    }

    /**
     * Files a command will write: none may be a folder, none may exist unless {@code overwrite} (the command's
     * {@code --force}; null when the command always replaces its output), and their folders must be creatable and
     * writable.
     */
    static void requireWritableFiles(String option, List<Path> files, Boolean overwrite) {
        for (Path f : files) {
            if (Files.isDirectory(f)) throw new CliError(option + " '" + f + "' is a folder; give a file name inside it instead");
            if (Boolean.FALSE.equals(overwrite) && Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
                throw new CliError(option + " '" + f + "' already exists; pass --force to overwrite it");
            }
        }
        for (Path folder : files.stream().map(f -> f.toAbsolutePath().getParent()).distinct().toList()) {
            requireWritableFolder(option, folder, files.get(0));
        }
    }

    /** A folder a command will write into: it, or the nearest part of its path that exists, must be a writable folder. */
    static void requireWritableFolder(String option, Path folder) {
        requireWritableFolder(option, folder.toAbsolutePath(), folder);
    }

    private static void requireWritableFolder(String option, Path folder, Path given) {
        Path existing = folder;
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) throw new CliError(option + " '" + given + "' cannot be created: no part of its path exists");
        if (!Files.isDirectory(existing)) {
            throw new CliError(option + " '" + given + "' cannot be created: '" + existing + "' is a file, not a folder");
        }
        // Trying is the only check that holds for every case: permissions, read-only mounts, root's overrides, ACLs.
        try {
            Files.delete(Files.createTempFile(existing, ".latte-write-check", ".tmp"));
        } catch (AccessDeniedException e) {
            throw new CliError(option + " '" + given + "' cannot be written: permission denied in '" + existing + "'", e);
        } catch (IOException e) {
            // The exception's own message is the probe's name, which means nothing to the user; its reason does.
            String why = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
            throw new CliError(option + " '" + given + "' cannot be written: no file can be created in '" + existing + "' (" + why + ")", e);
        }
    }
}
