package io.latteflow.notebook.ijava;

import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import io.github.spencerpark.jupyter.kernel.magic.registry.Magics;
import io.latteflow.notebook.LatteDisplays;
import io.latteflow.notebook.LatteMagics;
import io.latteflow.notebook.LatteNotebookException;
import io.latteflow.notebook.LatteSession;
import io.latteflow.notebook.NotebookOutput;

import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/**
 * What LaTtE-Flow installs in an IJava kernel: the {@link LatteDisplays} views as renderers of the kernel's
 * {@link Renderer}, {@code %latte} and {@code %%latte} in its magics registry, and live progress through
 * {@code display_data} / {@code update_display_data} under one display id. Called through
 * {@code LatteNotebook.installIJava()}, which finds the running kernel with {@code IJava.getKernelInstance()}.
 *
 * <p>IJava is not on Maven Central and exposes its registry and evaluator only on its own kernel class
 * ({@code JavaKernel.getMagics()}, {@code evalRaw(String)}), so those are reached by name; the rest is basekernel
 * 2.3.0's public API, which IJava loads once for the kernel and the notebook's code alike.
 *
 * <p>The renderer and output code mirror {@code LatteRenderers} and {@code BaseKernelOutput} line for line, over
 * basekernel 2.3.0's types: JJava's fork of basekernel renamed its packages, so one source cannot serve both.
 *
 * <pre>{@code
 * LatteMagics latte = LatteIJava.install(kernel, magicsRegistry, variables, LatteNotebook.session());
 * }</pre>
 */
public final class LatteIJava {
    private LatteIJava() {
    }

    /**
     * Registers the renderers and the magics on an IJava kernel.
     *
     * @param kernel    what {@code IJava.getKernelInstance()} returned
     * @param registry  what the kernel's {@code getMagics()} returned
     * @param variables the notebook's variables by name, through the kernel's {@code evalRaw}
     * @return the magics, also callable as {@code latte.run(List.of("info"), null)}
     * @throws LatteNotebookException when {@code kernel} or {@code registry} are not basekernel 2.3.0 objects
     */
    public static LatteMagics install(Object kernel, Object registry, Function<String, Optional<Object>> variables, LatteSession session) {
        if (!(kernel instanceof BaseKernel k)) {
            throw new LatteNotebookException("IJava's kernel is a " + kernel.getClass().getName() + ", not a jupyter-jvm-basekernel "
                    + BaseKernel.class.getName() + "; is a second copy of jupyter-jvm-basekernel on the notebook's class path?");
        }
        if (!(registry instanceof Magics magicsRegistry)) {
            throw new LatteNotebookException("IJava's getMagics() returned a " + registry.getClass().getName() + ", not a " + Magics.class.getName());
        }
        for (LatteDisplays.View<?> view : LatteDisplays.VIEWS) register(k.getRenderer(), view);
        LatteMagics magics = new LatteMagics(session, new Output(k), variables);
        magicsRegistry.registerLineMagic("latte", args -> magics.run(args, null));
        magicsRegistry.registerCellMagic("latte", magics::run);
        return magics;
    }

    private static <T> void register(Renderer renderer, LatteDisplays.View<T> view) {
        if (view.mime() == null) {
            renderer.createRegistration(view.type()).preferring(MIMEType.TEXT_PLAIN)
                    .register((value, context) -> context.getOutputContainer().putText(view.textOf(value)));
            return;
        }
        MIMEType rich = MIMEType.parse(view.mime());
        renderer.createRegistration(view.type()).preferring(rich).supporting(MIMEType.TEXT_PLAIN)
                .register((value, context) -> {
                    context.renderIfRequested(rich, (type, out) -> {
                        var metadata = view.metadataOf(value);
                        if (metadata.isEmpty()) out.putData(type, view.richData(value));
                        else out.putData(type, view.richData(value), metadata);
                    });
                    context.getOutputContainer().putText(view.textOf(value));
                });
    }

    /** The magics' output on the kernel: rendered values as display_data, one live display redrawn by id. */
    private record Output(BaseKernel kernel) implements NotebookOutput {
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
}
