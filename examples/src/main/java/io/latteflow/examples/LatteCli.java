package io.latteflow.examples;

import io.latteflow.examples.cli.AskCommand;
import io.latteflow.examples.cli.BenchCommand;
import io.latteflow.examples.cli.CliError;
import io.latteflow.examples.cli.GenerateCommand;
import io.latteflow.examples.cli.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * The {@code latte} command line: {@code generate}, {@code ask}, {@code train} and {@code bench}.
 *
 * <pre>{@code
 * int exit = LatteCli.commandLine().execute("generate", "--preset", "tiny", "--prompt", "red apple", "--out", "a.png");
 * }</pre>
 *
 * Exit codes: 0 success, 1 an unexpected failure, 2 bad input (options, files) reported in one clear line.
 */
@Command(name = "latte", mixinStandardHelpOptions = true, version = "latte 0.1.0-SNAPSHOT (LaTtE-Flow for the JVM)",
        description = "LaTtE-Flow on the JVM: draw images from captions, answer questions about images, train, benchmark.",
        subcommands = {GenerateCommand.class, AskCommand.class, TrainCommand.class, BenchCommand.class,
                io.latteflow.examples.cli.ScoreCommand.class, io.latteflow.examples.cli.BenchScoreCommand.class,
                io.latteflow.examples.cli.DataCommand.class, io.latteflow.examples.cli.EvalCommand.class, io.latteflow.examples.cli.ResultsCommand.class,
                io.latteflow.examples.cli.DemoCommand.class, io.latteflow.examples.cli.BenchStreamCommand.class,
                io.latteflow.examples.cli.ExportCommand.class, io.latteflow.examples.cli.InitCoupleCommand.class,
                io.latteflow.examples.cli.TrainCodecCommand.class,
                CommandLine.HelpCommand.class})
public final class LatteCli implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests call {@code execute} on it in-process. */
    public static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new LatteCli());
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        // No picocli @-files: an argument starting with @ is that text, not a file to read arguments from (issue 19,
        // found by fuzzing: "@/" ended in "Could not read argument file" with exit code 1, and --prompt @cat would
        // have read a file named cat).
        cmd.setExpandAtFiles(false);
        cmd.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println(name(ex.getCommandLine()) + ": " + oneLine(ex.getMessage()));
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
                err.println("Run '" + name(ex.getCommandLine()) + " --help' for the options.");
            }
            err.flush();
            return CliError.EXIT_BAD_INPUT;
        });
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (ex instanceof CliError) {
                err.println(name(commandLine) + ": " + oneLine(ex.getMessage()));
                err.flush();
                return CliError.EXIT_BAD_INPUT;
            }
            err.println(name(commandLine) + ": error: " + describe(ex));
            if (System.getenv("LATTE_DEBUG") != null) ex.printStackTrace(err);
            else err.println("(set LATTE_DEBUG=1 for the stack trace)");
            err.flush();
            return 1;
        });
        return cmd;
    }

    private static String name(CommandLine cmd) {
        return cmd.getCommandSpec().qualifiedName(" ");
    }

    /**
     * Bad input is one line (issue 19's sweep: a config.json that is not JSON printed Jackson's two-line message, the
     * second a "[Source: REDACTED ...]" that says nothing to a user).
     */
    static String oneLine(String message) {
        if (message == null) return "";
        return message.replace("[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); ", "[")
                .strip().replaceAll("\\s*\\R\\s*", " ");
    }

    private static String describe(Throwable e) {
        StringBuilder s = new StringBuilder(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && !s.toString().contains(c.getMessage())) s.append(": ").append(c.getMessage());
        }
        return s.toString();
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        spec.commandLine().getErr().println("latte: a subcommand is required (demo, generate, answer, train, bench, data, ...)");
        return CliError.EXIT_BAD_INPUT;
    }
}
