package io.latteflow.notebook.kernel;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.ExpressionSnippet;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.VarSnippet;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The Java side of the test kernels: an in-process JShell ("local" execution, so snippets' objects are the objects
 * the magics and renderers see) whose class path starts as the kernel's, and whose values come back as objects.
 *
 * <pre>{@code
 * JShellSession java = new JShellSession();
 * Object value = java.evalRaw("int x = 2; x * 21");   // 42
 * }</pre>
 */
public final class JShellSession implements AutoCloseable {
    private static volatile Object captured;
    private final JShell shell;

    public JShellSession() {
        shell = JShell.builder().executionEngine("local").build();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isBlank()) shell.addToClasspath(entry);
        }
    }

    /** Makes a jar or class folder visible to later snippets (what {@code %jars} and {@code %classpath} do). */
    public void addToClasspath(String path) {
        shell.addToClasspath(path);
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
        run(JShellSession.class.getName() + ".capture(" + name + ");");
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

    /** The lines a cell's error shows for what JShell threw or rejected; null for other exceptions. */
    public static List<String> errorLines(Exception e) {
        if (e instanceof CompilationException c) return c.lines();
        if (e instanceof EvalException ee) {
            List<String> lines = new ArrayList<>();
            lines.add(ee.getExceptionClassName() + ": " + ee.getMessage());
            for (StackTraceElement el : ee.getStackTrace()) lines.add("    at " + el);
            return lines;
        }
        return null;
    }

    /**
     * {@code s} as a Java string literal. Control characters become octal escapes: a unicode escape such as
     * backslash-u000a is translated before the lexer runs, so it would end the literal (a cell magic's body has lines).
     */
    public static String literal(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\%03o", (int) c));
            else if (c > 0x7e) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }

    @Override
    public void close() {
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
