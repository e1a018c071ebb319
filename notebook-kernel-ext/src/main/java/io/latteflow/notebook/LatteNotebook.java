package io.latteflow.notebook;

import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.magic.registry.Magics;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Optional;
import java.util.function.Function;

/**
 * Entry points for notebooks. In JJava nothing is needed: {@link LatteExtension} is found through
 * {@code META-INF/services} and calls {@link #install(BaseKernel)}. In any other kernel built on
 * jupyter-jvm-basekernel, one call installs what that kernel supports:
 *
 * <pre>{@code
 * LatteNotebook.install(kernel);          // renderers always; %latte magics if the kernel has getMagics()
 * LatteSession s = LatteNotebook.session(); // the plain Java API, in any kernel or none
 * }</pre>
 *
 * In rapaio-jupyter-kernel (no extension SPI, only display providers), after adding the jars with {@code %jars}:
 *
 * <pre>{@code
 * LatteMagics latte = LatteNotebook.installRapaio();   // renderers; returns the %latte commands
 * GeneratedImage img = (GeneratedImage) latte.run(List.of("generate", "red apple"), null);  // live progress, then the PNG
 * }</pre>
 *
 * In IJava (SpencerPark's kernel), after adding the jars with {@code %jars} or {@code %maven}, {@link #installIJava()}.
 *
 * The kernel's magics registry and variables are reached through the public methods JJava's and IJava's kernels have
 * ({@code Magics getMagics()}, {@code Object evalRaw(String)}); {@link BaseKernel} itself declares neither.
 */
public final class LatteNotebook {
    private static final LatteSession SESSION = new LatteSession();
    private static final String IJAVA = "io.github.spencerpark.ijava.IJava";
    private static final String IJAVA_BASEKERNEL = "io.github.spencerpark.jupyter.kernel.BaseKernel";

    private LatteNotebook() {
    }

    /** The one session the magics and the notebook's own code share. */
    public static LatteSession session() {
        return SESSION;
    }

    /**
     * Registers the renderers and, when the kernel exposes a magics registry, {@code %latte} and {@code %%latte}.
     *
     * @return the magics, also usable directly as {@code magics.run(List.of("info"), null)}
     */
    public static LatteMagics install(BaseKernel kernel) {
        LatteRenderers.registerAll(kernel.getRenderer());
        LatteMagics magics = new LatteMagics(SESSION, new BaseKernelOutput(kernel), variables(kernel));
        magicsRegistry(kernel).ifPresent(registry -> registerMagics(registry, magics));
        return magics;
    }

    /**
     * The one call for rapaio-jupyter-kernel: makes its display system draw LaTtE-Flow values (PNG and HTML, also
     * when the jars came in with {@code %jars} or {@code %dependency}) and returns the {@code %latte} commands, which
     * redraw one live progress display while they sample.
     *
     * @return the commands, e.g. {@code latte.run(List.of("info"), null)}
     * @throws LatteNotebookException outside rapaio, or when rapaio's display system cannot be taught
     */
    public static LatteMagics installRapaio() {
        try {
            Class.forName("org.rapaio.jupyter.kernel.display.DisplaySystem", false, LatteNotebook.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new LatteNotebookException("installRapaio() is for rapaio-jupyter-kernel, and it is not on the class path;"
                    + " elsewhere use install(kernel) or session()");
        }
        return io.latteflow.notebook.rapaio.LatteRapaio.install(SESSION);
    }

    /**
     * The one call for the IJava kernel (SpencerPark's): finds the running kernel through
     * {@code IJava.getKernelInstance()}, registers the renderers (images as {@code image/png}, grids, answers and
     * model info as HTML), the {@code %latte} and {@code %%latte} magics, and live progress. After adding the jars:
     *
     * <pre>{@code
     * %jars /path/to/latteflow-notebook/lib/*.jar     // or %maven io.latteflow:latteflow-notebook:0.1.0
     * io.latteflow.notebook.LatteNotebook.installIJava();
     * %latte load models/latte-emoji
     * }</pre>
     *
     * @return the magics, also callable as {@code latte.run(List.of("info"), null)}
     * @throws LatteNotebookException outside IJava, or when no IJava kernel is running in this JVM
     */
    public static LatteMagics installIJava() {
        Object kernel;
        try {
            Class<?> ijava = Class.forName(IJAVA, true, LatteNotebook.class.getClassLoader());
            kernel = ijava.getMethod("getKernelInstance").invoke(null);
        } catch (ClassNotFoundException e) {
            throw new LatteNotebookException("installIJava() is for the IJava kernel, and " + IJAVA + " is not on the class path;"
                    + " elsewhere use install(kernel), installRapaio() or session()");
        } catch (ReflectiveOperationException e) {
            throw new LatteNotebookException("IJava.getKernelInstance() failed: " + (e.getCause() != null ? e.getCause() : e));
        }
        if (kernel == null) throw new LatteNotebookException("IJava.getKernelInstance() returned null: no IJava kernel runs in this JVM");
        try {
            Class.forName(IJAVA_BASEKERNEL, false, LatteNotebook.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new LatteNotebookException("IJava runs, but jupyter-jvm-basekernel 2.3.0 (" + IJAVA_BASEKERNEL + ") is not visible to latteflow-notebook");
        }
        Object registry = call(kernel, "getMagics")
                .orElseThrow(() -> new LatteNotebookException("IJava's kernel " + kernel.getClass().getName() + " has no getMagics()"));
        return io.latteflow.notebook.ijava.LatteIJava.install(kernel, registry, variables(kernel), SESSION);
    }

    /** {@code %latte} and {@code %%latte} in a basekernel {@link Magics} registry. */
    public static void registerMagics(Magics registry, LatteMagics magics) {
        registry.registerLineMagic("latte", args -> magics.run(args, null));
        registry.registerCellMagic("latte", magics::run);
    }

    static Optional<Magics> magicsRegistry(BaseKernel kernel) {
        return call(kernel, "getMagics").filter(Magics.class::isInstance).map(Magics.class::cast);
    }

    /** The result of the kernel's public no-argument method {@code name}, empty when it has none. */
    private static Optional<Object> call(Object kernel, String name) {
        try {
            Method getter = kernel.getClass().getMethod(name);
            return Optional.ofNullable(getter.invoke(kernel));
        } catch (NoSuchMethodException e) {
            return Optional.empty();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the kernel's " + name + "() failed", e);
        }
    }

    /** Notebook variables through the kernel's {@code evalRaw(String)} when it has one; a name it cannot evaluate is absent. */
    static Function<String, Optional<Object>> variables(Object kernel) {
        Method evalRaw;
        try {
            evalRaw = kernel.getClass().getMethod("evalRaw", String.class);
        } catch (NoSuchMethodException e) {
            return name -> Optional.empty();
        }
        return name -> {
            try {
                return Optional.ofNullable(evalRaw.invoke(kernel, name));
            } catch (InvocationTargetException e) {
                return Optional.empty();
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("the kernel's evalRaw is not accessible", e);
            }
        };
    }

}
