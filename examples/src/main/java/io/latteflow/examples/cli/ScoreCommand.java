package io.latteflow.examples.cli;

import io.latteflow.arrow.ArrowInputException;
import io.latteflow.arrow.ArrowScorer;
import io.latteflow.arrow.ScoreListener;
import io.latteflow.arrow.ScoreMode;
import io.latteflow.arrow.ScoreResult;
import io.latteflow.arrow.TensorOutput;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.RequestLimits;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code latte score}: an Arrow table of prompts (or images and questions) to an Arrow table of images (or answers). */
@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Score an Arrow IPC file or stream in fixed-size batches and write an Arrow IPC file with the input "
                + "columns plus image (struct<bytes: binary PNG, path: utf8>) or answer (utf8), error (utf8, null on success) "
                + "and latency_ms (float64). pandas, Polars, DuckDB and Spark read it directly.",
                "generate mode reads: prompt: utf8, optional seed: int64, steps: int32, guidance: float32.",
                "answer mode reads: image: struct<bytes: binary, path: utf8> or binary, question: utf8."})
public final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--in", required = true, paramLabel = "INPUT", description = "Arrow IPC file or stream to score.")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "OUTPUT", description = "Arrow IPC file to write (atomically, at the end).")
    Path out;

    @Option(names = "--mode", paramLabel = "generate|answer", defaultValue = "generate",
            description = "generate: prompts to images; answer (or vqa, its first name): images and questions to answers. "
                    + "Default: ${DEFAULT-VALUE}.")
    ScoreMode mode;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "16", description = "Rows per model call. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--resume", description = "Continue an interrupted run of the same command from its last finished batch "
            + "(kept in OUTPUT.part); without it an unfinished run is discarded.")
    boolean resume;

    @Option(names = "--tensor", paramLabel = "none|latents|pixels", defaultValue = "none",
            description = "generate mode: also write raw latents or float pixels as an arrow.fixed_shape_tensor column. "
                    + "Default: ${DEFAULT-VALUE}.")
    TensorOutput tensor;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "16",
            description = "answer mode: longest answer in tokens (greedy). Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--max-image-pixels", paramLabel = "N", defaultValue = "16777216",
            description = "answer mode: images declaring more pixels are rejected before decoding. Default: ${DEFAULT-VALUE}.")
    long maxImagePixels;

    @Override
    public Integer call() throws IOException {
        if (batch < 1) throw bad("--batch must be >= 1, got " + batch);
        if (batch > GenerateCommand.MAX_BATCH) {
            throw bad("--batch " + batch + " is more than " + GenerateCommand.MAX_BATCH + " rows per model call (memory grows with it)");
        }
        if (maxTokens < 1 || maxTokens > RequestLimits.DEFAULTS.maxNewTokens()) {
            throw bad("--max-tokens must be in [1, " + RequestLimits.DEFAULTS.maxNewTokens() + "], got " + maxTokens);
        }
        if (maxImagePixels < 1) throw bad("--max-image-pixels must be >= 1, got " + maxImagePixels);
        if (tensor != TensorOutput.NONE && mode != ScoreMode.GENERATE) throw bad("--tensor needs --mode generate");
        if (!Files.isRegularFile(in)) throw new CliError("Input '" + in + "' does not exist or is not a file");
        // Replaced atomically at the end, as the --resume logic expects; checked before the model loads (issue 19).
        OutputPaths.requireWritableFiles("--out", List.of(out), null);
        PrintWriter err = spec.commandLine().getErr();
        if (!resume && ArrowScorer.canResume(out)) {
            err.println("Discarding the unfinished run in " + ArrowScorer.partFile(out) + " (--resume would continue it).");
        } else if (resume && !ArrowScorer.canResume(out) && !Files.exists(out)) {
            err.println("Nothing to resume for " + out + ": starting from the first row.");
        }
        err.flush();
        try (LatteFlow flow = modelOptions.open(err)) {
            String name = modelOptions.preset != null
                    ? "untrained preset " + modelOptions.preset + " (init seed " + modelOptions.initSeed + ")"
                    : ModelOptions.resolve(modelOptions.model).toString();
            Bar bar = new Bar(err);
            ArrowScorer scorer = ArrowScorer.builder(flow).mode(mode).batchSize(batch).modelName(name).tensor(tensor)
                    .maxNewTokens(maxTokens).maxImagePixels(maxImagePixels).listener(bar).build();
            ScoreResult r;
            try {
                r = scorer.score(in, out, resume);
            } catch (ArrowInputException e) {
                String kept = ArrowScorer.canResume(out) ? " (the finished batches are kept in " + ArrowScorer.partFile(out)
                        + "; --resume continues from there)" : "";
                throw new CliError(e.getMessage() + kept, e);
            } finally {
                bar.close();
            }
            if (r.scoredRows() == 0 && r.resumedRows() == r.rows() && resume) {
                err.printf("%s is already complete (%d rows); nothing was scored.%n", out, r.rows());
            } else {
                err.printf("Scored %d rows (%d with errors) in %.1f s, %.2f rows/s%s; wrote %s.%n", r.scoredRows(), r.failedRows(),
                        r.seconds(), r.scoredRows() / Math.max(r.seconds(), 1e-9),
                        r.resumedRows() > 0 ? " (" + r.resumedRows() + " rows kept from the interrupted run)" : "", out);
            }
            err.flush();
            spec.commandLine().getOut().println(out);
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Rows/s and ETA on stderr; created when the row count is known (unknown for an IPC stream). */
    private static final class Bar implements ScoreListener {
        private final PrintWriter err;
        private ProgressBar bar;

        Bar(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void started(long totalRows, long resumedRows) {
            boolean terminal = System.console() != null;
            bar = new ProgressBarBuilder().setTaskName("score").setInitialMax(totalRows).setStyle(ProgressBarStyle.ASCII)
                    .setUnit(" rows", 1).showSpeed(new java.text.DecimalFormat("0.00"))
                    .startsFrom(resumedRows, Duration.ZERO).setUpdateIntervalMillis(terminal ? 500 : 5000)
                    .setConsumer(new DelegatingProgressBarConsumer(line -> {
                        if (terminal) err.print('\r' + line);
                        else err.println(line);
                        err.flush();
                    }, 120)).build();
        }

        @Override
        public void batchWritten(long rowsDone, int rows, int failed, double millis) {
            bar.stepTo(rowsDone);
        }

        void close() {
            if (bar == null) return;
            bar.close();
            if (System.console() != null) err.println();
            err.flush();
        }
    }
}
