package io.latteflow.notebook.kernel;

import org.dflib.jjava.jupyter.Extension;
import org.dflib.jjava.jupyter.ExtensionLoader;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.channels.JupyterSocket;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.magic.CellMagicParseContext;
import org.dflib.jjava.jupyter.kernel.magic.MagicParser;
import org.dflib.jjava.jupyter.kernel.magic.registry.Magics;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Level;
import java.util.stream.Collectors;

/**
 * A small Java kernel for tests, on jupyter-jvm-basekernel's {@link BaseKernel} (the real ZeroMQ Jupyter protocol):
 * cells run in an in-process JShell, magics go to a basekernel {@link Magics} registry, and extensions are found with
 * basekernel's {@link ExtensionLoader} over the class path, the way JJava finds them. It exposes the two methods
 * JJava's kernel has that extensions use, {@code getMagics()} and {@code evalRaw(String)}.
 *
 * <pre>{@code
 * java -cp <class path> io.latteflow.notebook.kernel.JShellKernel /path/to/connection.json
 * }</pre>
 *
 * A cell is either one {@code %%name} cell magic, or Java with {@code %name ...} lines (run where they stand) and
 * {@code x = %name ...} assignments (the magic's return value lands in the variable).
 */
public final class JShellKernel extends BaseKernel {
    private static final MagicParser WHOLE_LINE = new MagicParser("^\\s*%", "%%");
    private static final MagicParser ASSIGNED = new MagicParser("(?<==)\\s*%", "%%");
    private static volatile JShellKernel instance;

    private final JShellSession java = new JShellSession();
    private final Magics magics = new Magics();

    public static void main(String[] args) throws Exception {
        if (args.length != 1) throw new IllegalArgumentException("usage: JShellKernel <connection file>");
        // Message handling logs every message at INFO; a notebook run needs only its warnings.
        JupyterSocket.JUPYTER_LOGGER.setLevel(Level.WARNING);
        JShellKernel kernel = new JShellKernel();
        instance = kernel;
        kernel.installExtensions();
        JupyterConnection connection = new JupyterConnection(KernelConnectionProperties.parse(Files.readString(Path.of(args[0]))));
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
        kernel.java.close();
    }

    /** Installs every {@link Extension} listed in a {@code META-INF/services} file on the class path. */
    public void installExtensions() {
        List<String> classPath = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        for (Extension extension : new ExtensionLoader().loadExtensions(classPath)) extension.install(this);
    }

    public Magics getMagics() {
        return magics;
    }

    /** Evaluates Java and returns the value of its last expression as the object itself (null for statements). */
    public Object evalRaw(String code) throws Exception {
        return java.evalRaw(code);
    }

    /** Called from snippets for {@code x = %name args}. */
    @SuppressWarnings("unchecked")
    public static <T> T lineMagic(String name, String... args) throws Exception {
        return (T) instance.magics.applyLineMagic(name, List.of(args));
    }

    @Override
    public DisplayData eval(String cell) throws Exception {
        CellMagicParseContext cellMagic = WHOLE_LINE.parseCellMagic(cell);
        if (cellMagic != null) {
            // Magics show their own output; their return value is for assignments.
            magics.applyCellMagic(cellMagic.getMagicCall().getName(), cellMagic.getMagicCall().getArgs(), cellMagic.getMagicCall().getBody());
            return null;
        }
        Object last = null;
        StringBuilder java = new StringBuilder();
        for (String line : cell.split("\\R", -1)) {
            List<Exception> failed = new ArrayList<>();
            boolean[] wasMagic = {false};
            WHOLE_LINE.transformLineMagics(line, ctx -> {
                wasMagic[0] = true;
                try {
                    evalRaw(java.toString());
                    java.setLength(0);
                    magics.applyLineMagic(ctx.getMagicCall().getName(), ctx.getMagicCall().getArgs());
                } catch (Exception e) {
                    failed.add(e);
                }
                return "";
            });
            if (!failed.isEmpty()) throw failed.get(0);
            if (wasMagic[0]) {
                last = null;
                continue;
            }
            java.append(ASSIGNED.transformLineMagics(line, ctx -> JShellKernel.class.getName() + ".lineMagic("
                    + JShellSession.literal(ctx.getMagicCall().getName()) + ctx.getMagicCall().getArgs().stream().map(a -> ", " + JShellSession.literal(a)).collect(Collectors.joining())
                    + ")")).append('\n');
        }
        if (!java.toString().isBlank()) last = evalRaw(java.toString());
        return last == null ? null : getRenderer().render(last);
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
