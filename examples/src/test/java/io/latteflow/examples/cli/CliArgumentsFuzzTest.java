package io.latteflow.examples.cli;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.latteflow.examples.LatteCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * Fuzz test of the {@code latte} command line's arguments (issue 19), through {@code LatteCli.commandLine().execute}
 * with the real exception handlers: picocli's parsing and conversion of every subcommand's options, help and version,
 * and, for {@code generate}, {@code answer} and {@code score}, the whole validation stage of the command itself (limits,
 * counts, input files, output paths), run up to the model: the model is always a folder that does not exist, so no
 * input can start model work (any other subcommand is parsed, not run). Bad input must exit with
 * {@link CliError#EXIT_BAD_INPUT} and one clear message; exit code 1 (an unexpected exception), an exception out of
 * {@code execute}, a hang or an out-of-memory is a finding.
 *
 * <p>Input: UTF-8 text, the arguments separated by NUL characters.
 */
class CliArgumentsFuzzTest {
    private static final Path NO_MODEL = Path.of("/nonexistent/latte-fuzz-model");
    /** Bigger counts are valid but only repeat the same per-file checks; parsed, not run, to keep each input fast. */
    private static final int MAX_RUN_COUNT = 64;

    @DictionaryEntries({"generate", "answer", "ask", "score", "train", "bench", "bench-score", "bench-stream", "data",
        "eval", "results", "demo", "export", "init-couple", "help", "--help", "--version", "--prompt", "--out", "--model",
        "--preset", "--init-seed", "--steps", "--cfg", "--seed", "--count", "--batch", "--force", "--image", "--question",
        "--max-new-tokens", "--timing", "--in", "--mode", "--resume", "--tensor", "--max-tokens", "--max-image-pixels",
        "tiny", "small", "bench", "latents", "pixels", "vqa", "-1", "0", "2147483648", "1e309", "NaN", "/", ".", "..", "-", "@"})
    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void arguments(byte[] data) {
        String[] args = data.length == 0 ? new String[0] : new String(data, StandardCharsets.UTF_8).split("\u0000", -1);
        OUT.getBuffer().setLength(0);
        ERR.getBuffer().setLength(0);
        int exit = CLI.execute(args);
        if (exit != 0 && exit != CliError.EXIT_BAD_INPUT) {
            throw new AssertionError("exit " + exit + " for " + String.join(" | ", args) + ":\n" + ERR);
        }
        if (exit == CliError.EXIT_BAD_INPUT && ERR.toString().isBlank()) {
            throw new AssertionError("exit 2 without a message for " + String.join(" | ", args));
        }
    }

    private static final StringWriter OUT = new StringWriter(), ERR = new StringWriter();
    /** One command line for every input, as picocli allows: each parse starts from the options' initial values. */
    private static final CommandLine CLI = commandLine();

    private static CommandLine commandLine() {
        CommandLine cmd = LatteCli.commandLine();
        cmd.setOut(new PrintWriter(OUT));
        cmd.setErr(new PrintWriter(ERR));
        cmd.setExecutionStrategy(parsed -> {
            Integer help = CommandLine.executeHelpRequest(parsed);
            if (help != null) return help;
            CommandLine.ParseResult last = parsed;
            while (last.hasSubcommand()) last = last.subcommand();
            Object command = last.commandSpec().userObject();
            ModelOptions model;
            if (command instanceof GenerateCommand g && g.count <= MAX_RUN_COUNT) model = g.modelOptions;
            else if (command instanceof AskCommand a) model = a.modelOptions;
            else if (command instanceof ScoreCommand s) model = s.modelOptions;
            else return 0;                                   // parsed only
            model.model = NO_MODEL;
            model.preset = null;
            return new CommandLine.RunLast().execute(parsed);
        });
        return cmd;
    }
}
