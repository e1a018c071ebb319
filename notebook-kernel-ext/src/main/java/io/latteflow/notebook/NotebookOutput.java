package io.latteflow.notebook;

/**
 * Where the magics put what they show; each kernel adapts its own display calls to it.
 *
 * <pre>{@code
 * NotebookOutput.LiveDisplay live = out.live(new SamplingProgress(List.of("a cat"), 0, 8, List.of(), 0));
 * live.update(new SamplingProgress(List.of("a cat"), 1, 8, List.of(), 0));
 * out.show(image);
 * }</pre>
 */
public interface NotebookOutput {
    /** A new output in the cell, rendered the way the kernel renders this value. */
    void show(Object value);

    /** A new output that can later be replaced in place. */
    LiveDisplay live(Object initial);

    /** One line of error text in the cell. */
    void error(String line);

    /**
     * One output of the cell that is redrawn with each update.
     *
     * <pre>{@code
     * live.update(progress);
     * }</pre>
     */
    interface LiveDisplay {
        void update(Object value);
    }
}
