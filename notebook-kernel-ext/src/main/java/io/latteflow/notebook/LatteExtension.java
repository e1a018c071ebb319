package io.latteflow.notebook;

import org.dflib.jjava.jupyter.Extension;
import org.dflib.jjava.jupyter.kernel.BaseKernel;

/**
 * The JJava extension: listed in {@code META-INF/services/org.dflib.jjava.jupyter.Extension}, so a JJava kernel
 * installs it as soon as this jar is on its class path (e.g. after {@code %maven io.latteflow:latteflow-notebook}).
 *
 * <pre>{@code
 * new LatteExtension().install(kernel); // what the kernel does
 * }</pre>
 */
public final class LatteExtension implements Extension {
    @Override
    public void install(BaseKernel kernel) {
        LatteNotebook.install(kernel);
    }
}
