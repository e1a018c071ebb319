package io.latteflow.examples.cli;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Output files that appear whole or not at all. */
final class Outputs {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Outputs() {
    }

    /** {@code out} itself for one file; {@code name-1.ext .. name-n.ext} for several. */
    static List<Path> numbered(Path out, int n) {
        if (n == 1) return List.of(out);
        String name = out.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name, ext = dot > 0 ? name.substring(dot) : "";
        List<Path> files = new ArrayList<>();
        for (int i = 1; i <= n; i++) files.add(out.resolveSibling(stem + "-" + i + ext));
        return files;
    }

    /**
     * Writes under a temporary name beside {@code file}, then renames it into place. The temporary file is created as
     * any file (mode 0666 less the umask, 0644 as a rule), not with {@code Files.createTempFile}, whose 0600 the
     * rename kept (issue 19: generate wrote 0600 files where demo and score write 0644).
     */
    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        try {
            Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            move(tmp, abs);
        } catch (IOException e) {
            // Named as the user named it: the temporary name means nothing to them (issue 19).
            String why = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
            IOException named = new IOException("Cannot write '" + file + "': " + why);
            named.addSuppressed(e);
            throw named;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Deletes a folder and what is in it without following links (a link is removed as a link). A file or folder
     * that vanishes under the walk, because another component is emptying the same folder, is skipped.
     */
    static void deleteTree(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) throw e;
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Deletes a scratch folder that another component may still be emptying: Flink's blob and distributed-cache
     * services delete their own files on background threads after the job has ended, so a file can vanish under the
     * walk (CI stop 22: {@code NoSuchFileException .../flink-dist-cache-...} failed a demo whose results were all
     * written). A folder that is refilled is tried again, and what still cannot be deleted after a few tries is
     * returned rather than thrown: scratch that stays behind must not fail the command.
     */
    static Optional<IOException> deleteScratch(Path dir) {
        IOException last = null;
        for (int attempt = 0; attempt < 5 && Files.exists(dir, LinkOption.NOFOLLOW_LINKS); attempt++) {
            try {
                deleteTree(dir);
                return Optional.empty();
            } catch (NoSuchFileException gone) {
                return Optional.empty();
            } catch (IOException e) {
                last = e;
                try {
                    Thread.sleep(200L << attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return Optional.ofNullable(last);
    }
}
