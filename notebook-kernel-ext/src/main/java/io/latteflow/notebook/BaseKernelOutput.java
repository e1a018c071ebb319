package io.latteflow.notebook;

import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.util.UUID;

/**
 * {@link NotebookOutput} on a jupyter-jvm-basekernel kernel: values go through the kernel's renderer and out as
 * {@code display_data}; a live display is redrawn with {@code update_display_data} under one display id.
 *
 * <pre>{@code
 * NotebookOutput out = new BaseKernelOutput(kernel);
 * out.show(image);
 * }</pre>
 */
public final class BaseKernelOutput implements NotebookOutput {
    private final BaseKernel kernel;

    public BaseKernelOutput(BaseKernel kernel) {
        this.kernel = kernel;
    }

    @Override
    public void show(Object value) {
        kernel.display(kernel.getRenderer().render(value));
    }

    @Override
    public LiveDisplay live(Object initial) {
        String id = UUID.randomUUID().toString();
        DisplayData first = kernel.getRenderer().render(initial);
        first.setDisplayId(id);
        kernel.display(first);
        return value -> kernel.getIO().display.updateDisplay(id, kernel.getRenderer().render(value));
    }

    @Override
    public void error(String line) {
        kernel.getIO().err.println(line);
        kernel.getIO().err.flush();
    }
}
