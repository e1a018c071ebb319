package io.latteflow.notebook.kernel;

import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.LanguageInfo;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.magic.CellMagicParseContext;
import io.github.spencerpark.jupyter.kernel.magic.MagicParser;
import io.github.spencerpark.jupyter.kernel.magic.registry.Magics;
import io.github.spencerpark.jupyter.kernel.util.GlobFinder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A stand-in for the IJava kernel (SpencerPark's, whose jar is not on Maven Central), built the way IJava is: a
 * jupyter-jvm-basekernel 2.3.0 {@link BaseKernel} evaluating cells with the JDK's {@code jdk.jshell}, magics in a
 * basekernel {@link Magics} registry, reached from the cell's code. As in IJava, a cell's magics are rewritten into
 * Java before it runs ({@code %name args} lines and {@code x = %name args} into {@code lineMagic(name, args);{};}, a
 * {@code %%name} cell into one {@code cellMagic} call), {@code %jars} and {@code %classpath} add jars and folders
 * (globs allowed, relative to the notebook's folder) to the snippets' class path, and the kernel object is what
 * {@code io.github.spencerpark.ijava.IJava.getKernelInstance()} returns, with IJava's public {@code getMagics()} and
 * {@code evalRaw(String)}.
 *
 * <p>What differs from IJava: no {@code %maven} or {@code %loadFromPOM} (no Ivy resolver), no code completion or
 * inspection, no time limit per cell, and snippets run in the kernel's JVM ("local" execution) where IJava runs them
 * in its own class loader with an execution control of its own; the magic rewriting does not skip {@code %} inside
 * string literals.
 *
 * <pre>{@code
 * java -cp test-classes:ijava-kernel/* io.github.spencerpark.ijava.IJava /path/to/connection.json
 * }</pre>
 */
public final class IJavaStandInKernel extends BaseKernel {
    /** IJava's magic syntax: {@code %} at the start of a line or right after {@code =}; {@code %%} starts a cell magic. */
    private static final MagicParser MAGICS = new MagicParser("(?<=(?:^|=))\\s*%", "%%");
    private static volatile IJavaStandInKernel running;

    private final JShellSession java = new JShellSession();
    private final Magics magics = new Magics();

    public IJavaStandInKernel() {
        magics.registerLineMagic("jars", args -> addToClasspath(args, true));
        magics.registerLineMagic("classpath", args -> addToClasspath(args, false));
    }

    /** Makes this the kernel the runtime calls below and {@code IJava.getKernelInstance()} answer for. */
    public static void setRunning(IJavaStandInKernel kernel) {
        running = kernel;
    }

    public static IJavaStandInKernel running() {
        return running;
    }

    public Magics getMagics() {
        return magics;
    }

    /** Evaluates Java and returns the value of its last expression as the object itself (null for statements). */
    public Object evalRaw(String code) throws Exception {
        return java.evalRaw(code);
    }

    /** What a rewritten {@code %name args} calls. */
    @SuppressWarnings("unchecked")
    public static <T> T lineMagic(String name, List<String> args) throws Exception {
        return (T) running.magics.applyLineMagic(name, args);
    }

    /** What a rewritten {@code %%name args} cell calls. */
    @SuppressWarnings("unchecked")
    public static <T> T cellMagic(String name, List<String> args, String body) throws Exception {
        return (T) running.magics.applyCellMagic(name, args, body);
    }

    private List<String> addToClasspath(List<String> globs, boolean jarsOnly) {
        List<String> added = new ArrayList<>();
        for (String glob : globs) {
            try {
                GlobFinder finder = new GlobFinder(glob);
                for (Path p : jarsOnly ? finder.computeMatchingFiles() : finder.computeMatchingPaths()) {
                    String path = p.toAbsolutePath().toString();
                    java.addToClasspath(path);
                    added.add(path);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot resolve '" + glob + "'", e);
            }
        }
        return added;
    }

    @Override
    public DisplayData eval(String cell) throws Exception {
        Object last = java.evalRaw(rewriteMagics(cell));
        return last == null ? null : getRenderer().render(last);
    }

    /** The cell with its magics as calls of {@link #lineMagic} and {@link #cellMagic}, as IJava rewrites them. */
    static String rewriteMagics(String cell) {
        CellMagicParseContext cellMagic = MAGICS.parseCellMagic(cell);
        if (cellMagic != null) {
            var call = cellMagic.getMagicCall();
            return call(".cellMagic(", call.getName(), call.getArgs()) + ", " + JShellSession.literal(call.getBody()) + ");{};";
        }
        return MAGICS.transformLineMagics(cell, ctx -> call(".lineMagic(", ctx.getMagicCall().getName(), ctx.getMagicCall().getArgs()) + ");{};");
    }

    private static String call(String method, String name, List<String> args) {
        return IJavaStandInKernel.class.getName() + method + JShellSession.literal(name) + ", java.util.List.of("
                + args.stream().map(JShellSession::literal).collect(Collectors.joining(", ")) + ")";
    }

    @Override
    public List<String> formatError(Exception e) {
        List<String> lines = JShellSession.errorLines(e);
        return lines != null ? lines : super.formatError(e);
    }

    @Override
    public LanguageInfo getLanguageInfo() {
        return new LanguageInfo.Builder("java").version(Runtime.version().toString()).mimetype("text/x-java-source")
                .fileExtension(".jshell").pygments("java").codemirror("java").build();
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        java.close();
    }
}
