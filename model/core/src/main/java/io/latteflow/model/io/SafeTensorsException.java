package io.latteflow.model.io;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file (or checkpoint index) that is malformed, or a request it cannot satisfy. */
public class SafeTensorsException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public SafeTensorsException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public SafeTensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file the problem was found in. */
    public Path file() {
        return file;
    }
}
