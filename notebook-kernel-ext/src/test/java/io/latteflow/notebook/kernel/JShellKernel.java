package io.latteflow.notebook.kernel;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.ExpressionSnippet;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.VarSnippet;
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
import java.util.Locale;
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
    private static volatile Object captured;

    private final JShell shell;
    private final Magics magics = new Magics();

    public JShellKernel() {
        // "local": snippets run in this JVM, so their objects are the objects the magics and renderers see.
        this.shell = JShell.builder().executionEngine("local").build();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isBlank()) shell.addToClasspath(entry);
        }
    }

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
        kernel.shell.close();
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
        Snippet valued = null;
        String remaining = code;
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = shell.sourceCodeAnalysis().analyzeCompletion(remaining);
            if (info.completeness() == SourceCodeAnalysis.Completeness.EMPTY) break;
            if (!info.completeness().isComplete()) throw new CompilationException(List.of("incomplete code: " + remaining.strip()));
            remaining = info.remaining();
            valued = run(info.source());
        }
        if (valued == null) return null;
        String name = valued instanceof VarSnippet v ? v.name() : ((ExpressionSnippet) valued).name();
        captured = null;
        run(JShellKernel.class.getName() + ".capture(" + name + ");");
        return captured;
    }

    /** Runs one snippet; returns it when it has a value to show. */
    private Snippet run(String source) throws Exception {
        Snippet valued = null;
        for (SnippetEvent event : shell.eval(source)) {
            if (event.causeSnippet() != null) continue;
            Snippet s = event.snippet();
            if (event.status() == Snippet.Status.REJECTED) {
                throw new CompilationException(shell.diagnostics(s).map(d -> message(s, d)).collect(Collectors.toList()));
            }
            if (event.exception() != null) throw event.exception();
            boolean tempValue = s instanceof VarSnippet v && v.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND;
            boolean plainValue = s instanceof ExpressionSnippet e && e.subKind() == Snippet.SubKind.VAR_VALUE_SUBKIND;
            if (tempValue || plainValue) valued = s;
        }
        return valued;
    }

    private static String message(Snippet s, Diag d) {
        return "error: " + d.getMessage(Locale.ROOT) + " in: " + s.source().strip();
    }

    /** Called from snippets: hands an object from JShell to the kernel. */
    public static void capture(Object value) {
        captured = value;
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
                    + literal(ctx.getMagicCall().getName()) + ctx.getMagicCall().getArgs().stream().map(a -> ", " + literal(a)).collect(Collectors.joining())
                    + ")")).append('\n');
        }
        if (!java.toString().isBlank()) last = evalRaw(java.toString());
        return last == null ? null : getRenderer().render(last);
    }

    private static String literal(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }

    @Override
    public List<String> formatError(Exception e) {
        if (e instanceof CompilationException c) return c.lines();
        if (e instanceof EvalException ee) {
            List<String> lines = new ArrayList<>();
            lines.add(ee.getExceptionClassName() + ": " + ee.getMessage());
            for (StackTraceElement el : ee.getStackTrace()) lines.add("    at " + el);
            return lines;
        }
        return super.formatError(e);
    }

    @Override
    public LanguageInfo getLanguageInfo() {
        return new LanguageInfo.Builder("java").version(Runtime.version().toString()).mimetype("text/x-java-source")
                .fileExtension(".jshell").pygments("java").codemirror("java").build();
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        shell.close();
    }

    /**
     * Java that JShell rejected, with its diagnostics as the error's lines.
     *
     * <pre>{@code
     * throw new CompilationException(List.of("error: cannot find symbol in: foo()"));
     * }</pre>
     */
    public static final class CompilationException extends Exception {
        private final List<String> lines;

        public CompilationException(List<String> lines) {
            super(String.join("; ", lines));
            this.lines = List.copyOf(lines);
        }

        public List<String> lines() {
            return lines;
        }
    }
}
