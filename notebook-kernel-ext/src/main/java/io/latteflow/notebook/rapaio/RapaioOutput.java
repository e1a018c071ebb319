package io.latteflow.notebook.rapaio;

import io.latteflow.notebook.NotebookOutput;
import org.rapaio.jupyter.kernel.global.Global;

/**
 * {@link NotebookOutput} on rapaio-jupyter-kernel: values go out through rapaio's display system (so
 * {@link LatteDisplayProvider} draws them), a live display is redrawn with {@code update_display_data} under the
 * display id rapaio hands out, and errors are one line on the cell's stderr.
 *
 * <pre>{@code
 * NotebookOutput out = new RapaioOutput();
 * out.live(progress).update(nextProgress);
 * }</pre>
 */
public final class RapaioOutput implements NotebookOutput {
    @Override
    public void show(Object value) {
        Global.display(value);
    }

    @Override
    public LiveDisplay live(Object initial) {
        String id = Global.display(initial);
        return value -> Global.updateDisplay(id, value);
    }

    @Override
    public void error(String line) {
        // rapaio points System.err at the running cell's stderr stream.
        System.err.println(line);
        System.err.flush();
    }
}
