package io.latteflow.notebook;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of the {@code %latte} / {@code %%latte} magic arguments (issue 19), through {@link LatteMagics#run} as a
 * kernel calls it, on a session with no model, so no input can start model work: parsing, option values, the image
 * argument of {@code answer} (a notebook variable, PNG bytes, a path) and the cell body are all reached. Every
 * refusal must be one line of the magics' own words ({@link LatteNotebookException}); a line naming an exception type
 * ("latte: NumberFormatException: ...") is how {@code run} shows an unexpected exception, and is a finding like an
 * exception escaping {@code run}, a hang or an out-of-memory.
 *
 * <p>Input: UTF-8 text; the words of the magic line separated by U+001F (unit separator; a word may hold any other
 * character, NUL included), then optionally U+0001 and the cell
 * body (which makes it {@code %%latte}). Notebook variables: {@code img} holds the input's own bytes (as
 * {@code byte[]}), {@code file} a path to them, {@code text} a String.
 */
class MagicArgumentsFuzzTest {
    private static final Pattern UNEXPECTED = Pattern.compile("^latte: [A-Z][A-Za-z0-9]*(Exception|Error): ");
    private static final Path FILE = scratch();

    private static Path scratch() {
        try {
            Path file = Files.createTempFile("latte-fuzz-magic-", ".bin");
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // Words only: libFuzzer's dictionary format does not take the control characters that separate words and body.
    @DictionaryEntries({"load", "generate", "answer", "ask", "info", "--steps", "--cfg", "--seed", "--n", "--steps=", "--n=",
        "_", "img", "file", "text", "-1", "0", "2147483648", "9223372036854775808", "1e309", "NaN", "/"})
    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void magicArguments(byte[] data) throws IOException {
        String text = new String(data, StandardCharsets.UTF_8);
        int split = text.indexOf('\u0001');
        String line = split < 0 ? text : text.substring(0, split);
        String body = split < 0 ? null : text.substring(split + 1);
        List<String> args = line.isEmpty() ? List.of() : Arrays.asList(line.split("\u001f", -1));

        // Loading is the one command that does real work: only a path that is no folder is run (it must be refused).
        if (!args.isEmpty() && args.get(0).equals("load") && body == null && args.size() <= 2) {
            if (args.size() == 1 || isFolder(args.get(1))) {
                try {
                    LatteCommand.parse(args, null);
                } catch (LatteNotebookException e) {
                    if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("no message", e);
                }
                return;
            }
        }
        Files.write(FILE, data);
        List<String> errors = new ArrayList<>();
        List<Object> shown = new ArrayList<>();
        NotebookOutput out = new NotebookOutput() {
            @Override
            public void show(Object value) {
                shown.add(value);
            }

            @Override
            public LiveDisplay live(Object initial) {
                shown.add(initial);
                return shown::add;
            }

            @Override
            public void error(String errorLine) {
                errors.add(errorLine);
            }
        };
        Function<String, Optional<Object>> variables = name -> switch (name) {
            case "img" -> Optional.of(data);
            case "file" -> Optional.of(FILE);
            case "text" -> Optional.of(text);
            default -> Optional.empty();
        };
        LatteSession session = new LatteSession();
        Object result = new LatteMagics(session, out, variables).run(args, body);
        if (result != null) throw new AssertionError("a session with no model gave a result: " + result);
        if (errors.size() != 1) throw new AssertionError("expected one error line, got " + errors);
        String error = errors.get(0);
        if (UNEXPECTED.matcher(error).find() || error.contains("\n") || error.isBlank()) {
            throw new AssertionError("not a clear one-line refusal: " + error);
        }
        // run refuses a question before it reads the image; the image argument is resolved here too, as a model would.
        LatteCommand command;
        try {
            command = LatteCommand.parse(args, body);
        } catch (LatteNotebookException e) {
            return;
        }
        if (command instanceof LatteCommand.Ask ask) {
            try {
                ImageRefs.resolve(ask.image(), session, variables);
            } catch (LatteNotebookException e) {
                if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("no message", e);
            }
        }
    }

    private static boolean isFolder(String path) {
        try {
            return Files.isDirectory(Path.of(path));
        } catch (InvalidPathException e) {
            return false;
        }
    }
}
