package io.latteflow.notebook;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.ImageBytes;
import io.latteflow.model.RequestLimits;

import javax.lang.model.SourceVersion;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * Turns the image argument of {@code %latte ask} into a picture: {@code _} (the last generated image), a notebook
 * variable holding an image, PNG bytes or a path, or an image file's path.
 *
 * <pre>{@code
 * BufferedImage img = ImageRefs.resolve("apple", session, kernelVariables);
 * }</pre>
 */
public final class ImageRefs {
    private ImageRefs() {
    }

    public static BufferedImage resolve(String ref, LatteSession session, Function<String, Optional<Object>> variables) {
        if (ref.equals("_")) {
            return session.last().map(GeneratedImage::image)
                    .orElseThrow(() -> new LatteNotebookException("_ means the last generated image, and nothing has been generated yet"));
        }
        if (SourceVersion.isIdentifier(ref)) {
            Optional<Object> value = variables.apply(ref);
            if (value.isPresent()) {
                return asImage(value.get()).orElseThrow(() -> new LatteNotebookException("variable " + ref + " is a "
                        + value.get().getClass().getSimpleName() + ", not an image (BufferedImage, GeneratedImage, PNG bytes or a path)"));
            }
        }
        Path file = path(ref);
        if (file != null && Files.isRegularFile(file)) return read(file);
        throw new LatteNotebookException("no image variable or file named '" + ref + "'");
    }

    /** {@code ref} as a path; null when it cannot be one (a NUL character). */
    private static Path path(String ref) {
        try {
            return Path.of(ref);
        } catch (InvalidPathException e) {
            return null;
        }
    }

    static Optional<BufferedImage> asImage(Object value) {
        if (value instanceof BufferedImage b) return Optional.of(b);
        if (value instanceof GeneratedImage g) return Optional.of(g.image());
        if (value instanceof byte[] bytes) return Optional.of(decode(bytes));
        if (value instanceof Path p) return Optional.of(read(p));
        if (value instanceof File f) return Optional.of(read(f.toPath()));
        return Optional.empty();
    }

    /** Decoded as every front door decodes: the declared size is checked against the core's limit first (issue 19). */
    private static BufferedImage decode(byte[] bytes) {
        try {
            return ImageBytes.decode(bytes, RequestLimits.DEFAULTS.maxImagePixels());
        } catch (ImageBytes.BadImage e) {
            throw new LatteNotebookException("the image bytes are refused: " + e.getMessage(), e);
        }
    }

    private static BufferedImage read(Path file) {
        try {
            return ImageBytes.read(file, RequestLimits.DEFAULTS.maxImagePixels());
        } catch (ImageBytes.BadImage e) {
            throw new LatteNotebookException(file + " is refused: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new LatteNotebookException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
