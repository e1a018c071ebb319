package io.latteflow.model.io;

/**
 * The float types a model's weights are written in (safetensors dtype names). Reading accepts these from any file;
 * other dtypes a file may name are listed but not read.
 *
 * <pre>{@code
 * flow.save(Path.of("my-model"), DType.BF16);
 * }</pre>
 */
public enum DType {
    F32(4), F16(2), BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
