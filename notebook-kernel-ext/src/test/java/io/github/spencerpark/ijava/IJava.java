package io.github.spencerpark.ijava;

import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.channels.JupyterSocket;
import io.github.spencerpark.jupyter.kernel.KernelConnectionProperties;
import io.latteflow.notebook.kernel.IJavaStandInKernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;

/**
 * Test stand-in for IJava's entry class, under IJava's own name because that name is what
 * {@code LatteNotebook.installIJava()} looks up: {@code main} starts an {@link IJavaStandInKernel} on a connection
 * file as IJava's does, and {@link #getKernelInstance()} returns it while it runs.
 *
 * <pre>{@code
 * java -cp <class path> io.github.spencerpark.ijava.IJava /path/to/connection.json
 * }</pre>
 */
public final class IJava {
    private IJava() {
    }

    /** The running kernel, or null before it starts and after it stops, as in IJava. */
    public static IJavaStandInKernel getKernelInstance() {
        return IJavaStandInKernel.running();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) throw new IllegalArgumentException("usage: IJava <connection file>");
        JupyterSocket.JUPYTER_LOGGER.setLevel(Level.WARNING);
        JupyterConnection connection = new JupyterConnection(KernelConnectionProperties.parse(Files.readString(Path.of(args[0]))));
        IJavaStandInKernel kernel = new IJavaStandInKernel();
        IJavaStandInKernel.setRunning(kernel);
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
        IJavaStandInKernel.setRunning(null);
        System.exit(0);
    }
}
