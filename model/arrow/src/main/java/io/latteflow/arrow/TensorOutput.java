package io.latteflow.arrow;

/**
 * An optional extra output column of raw model arrays, typed as Arrow's canonical {@code arrow.fixed_shape_tensor}
 * extension (pyarrow: {@code column.combine_chunks().to_numpy_ndarray()} gives one (rows, ...shape) array).
 * Generation mode only.
 *
 * <pre>{@code
 * ArrowScorer scorer = ArrowScorer.builder(flow).tensor(TensorOutput.LATENTS).build();  // adds a "latents" column
 * }</pre>
 */
public enum TensorOutput {
    /** No tensor column. */
    NONE,
    /** Column {@code latents}: the sampler's output, float32 (latentTokens, latentDim), before decoding and clipping. */
    LATENTS,
    /** Column {@code pixels}: the decoded image, float32 (3, size, size) in [0, 1], before PNG quantisation. */
    PIXELS;

    /** The column name this option adds, or null for {@link #NONE}. */
    public String columnName() {
        return this == NONE ? null : name().toLowerCase(java.util.Locale.ROOT);
    }
}
