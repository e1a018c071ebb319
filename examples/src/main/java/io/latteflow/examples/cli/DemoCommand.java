package io.latteflow.examples.cli;

import io.latteflow.examples.demo.ContactSheet;
import io.latteflow.examples.demo.StreamingDemo;
import io.latteflow.flink.AnswerResult;
import io.latteflow.flink.DeadLetter;
import io.latteflow.flink.ImageResult;
import io.latteflow.flink.LatteOptions;
import io.latteflow.model.RequestLimits;
import me.tongfei.progressbar.ProgressBar;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code latte demo}: the streaming demo on an embedded Flink MiniCluster, or with {@code --cluster} on a running
 * Flink session cluster. Captions become images through the
 * LaTtE-Flow operator, the model then answers questions about each image it drew, and exactly-once FileSinks write
 * the results, from which an HTML contact sheet is made.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the streaming demo: a Flink job (embedded MiniCluster) that draws images from captions, asks the model "
                + "about each image, and writes images, answers and dead letters with exactly-once FileSinks plus an HTML contact sheet."})
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-out", description = "Output folder (stream/, images/, index.html). Default: ${DEFAULT-VALUE}.")
    Path out;

    /** Most prompts one demo streams: every image gets a row on the contact sheet and a line in the marker (issue 19). */
    static final int MAX_PROMPTS = 10_000;
    /** Largest --prompts file read: 10,000 prompts of 500 characters, with room to spare. */
    static final long MAX_PROMPTS_FILE_BYTES = 16L << 20;

    @Option(names = "--count", paramLabel = "N", defaultValue = "24", description = "Prompts from the built-in list (cycled). Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--prompts", paramLabel = "FILE", description = "A file of prompts, one per line, instead of the built-in list (--count then caps them).")
    Path promptsFile;

    @Option(names = "--question", paramLabel = "TEXT", description = "A question asked about every drawn image (repeatable). Default: 'what is this?' and 'which category is this?'.")
    List<String> questions;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "latte.max-batch-size. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--delay-ms", paramLabel = "MS", defaultValue = "100", description = "latte.max-batch-delay in ms. Default: ${DEFAULT-VALUE}.")
    long delayMs;

    @Option(names = "--rate-ms", paramLabel = "MS", defaultValue = "0", description = "Pause between prompts entering the stream (0 = all at once). Default: ${DEFAULT-VALUE}.")
    long rateMs;

    @Option(names = "--parallelism", paramLabel = "P", defaultValue = "1", description = "Operator parallelism (subtasks share one model). Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(names = "--force", description = "Replace an earlier demo's output in --out: the files that demo wrote, as its "
            + ".latte-demo marker lists them; other files in the folder are kept.")
    boolean force;

    @Option(names = "--cluster", paramLabel = "HOST:PORT",
            description = {"Submit the job to a running Flink session cluster at this REST address instead of the embedded "
                    + "MiniCluster. No jar is shipped: the TaskManagers need this project's classes on their class path (Flink's lib/), "
                    + "and must read --model and write --out at the same paths as this machine."})
    String cluster;

    @Override
    public Integer call() throws Exception {
        quietFlinkLogs();
        if (count < 1) throw bad("--count must be >= 1, got " + count);
        if (count > MAX_PROMPTS) {
            throw bad("--count " + count + " is more than the demo's " + MAX_PROMPTS + " prompts; score a large table with 'latte score'");
        }
        if (batch < 1) throw bad("--batch must be >= 1, got " + batch);
        if (delayMs < 0 || rateMs < 0) throw bad("--delay-ms and --rate-ms must be >= 0");
        if (parallelism < 1) throw bad("--parallelism must be >= 1, got " + parallelism);
        PrintWriter err = spec.commandLine().getErr();
        FlinkCluster remote = cluster == null ? null : FlinkCluster.parse(cluster);
        String remoteVersion = remote == null ? null : remote.requireRunning();
        List<String> prompts = prompts();
        List<String> asked = questions != null ? questions : StreamingDemo.DEFAULT_QUESTIONS;
        for (String q : asked) {
            // Every image is asked every --question: a bad one is the command's bad input, refused before any work.
            String why = RequestLimits.DEFAULTS.questionRefusal(q);
            if (why != null) throw bad("--question: " + why);
        }
        OutputPaths.requireWritableFolder("--out", out);
        prepareOut(prompts.size());
        Path model = modelOptions.directory(err, out.resolve("model"));
        LatteOptions options = LatteOptions.builder().model(model.toString()).maxBatchSize(batch).maxBatchDelay(Duration.ofMillis(delayMs)).build();

        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        // The embedded cluster's scratch (its RPC jar, 24 MB, a minicluster_* folder, the REST server's upload folder)
        // goes to a folder of ours that is deleted after the run; Flink left them in the system temp folder (issue 19).
        Path flinkTemp = remote == null ? Files.createTempDirectory("latte-demo-flink") : null;
        try {
            if (flinkTemp != null) {
                conf.set(CoreOptions.TMP_DIRS, flinkTemp.toString());
                conf.set(WebOptions.TMP_DIR, flinkTemp.toString());
            }
            return run(prompts, asked, options, conf, remote, remoteVersion, err);
        } finally {
            if (flinkTemp != null) {
                Outputs.deleteScratch(flinkTemp).ifPresent(e -> {
                    err.println("latte demo: warning: could not delete Flink's scratch folder " + flinkTemp + ": " + e);
                    err.flush();
                });
            }
        }
    }

    private int run(List<String> prompts, List<String> asked, LatteOptions options, Configuration conf, FlinkCluster remote,
                    String remoteVersion, PrintWriter err) throws Exception {
        Path model = Path.of(options.model());
        StreamExecutionEnvironment env = remote == null ? StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf)
                : remote.environment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(1000);
        err.printf("Streaming %d prompts through %s on %s (batch %d, delay %d ms, parallelism %d)...%n", prompts.size(), model,
                remote == null ? "an embedded Flink cluster" : "the Flink cluster at " + cluster + " (Flink " + remoteVersion + ")",
                batch, delayMs, parallelism);
        err.flush();
        long start = System.nanoTime();
        StreamingDemo demo = new StreamingDemo(prompts, asked, options, out, rateMs);
        try (ProgressBar bar = Progress.bar("demo", (long) prompts.size() * (1 + asked.size()), " results", err)) {
            Counter.BAR = bar;
            if (cluster == null) demo.run(env, new Counter());
            else runOnCluster(demo, env, bar);
        } finally {
            Counter.BAR = null;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        ContactSheet sheet = ContactSheet.read(out);
        Path page = sheet.write(out);
        err.printf("Done in %.1f s: %d images (%.2f images/s), %d answers, %d dead letters.%n", seconds, sheet.imageCount(),
                sheet.imageCount() / seconds, sheet.answerCount(), sheet.deadLetterCount());
        err.println("Contact sheet: " + page.toAbsolutePath());
        err.flush();
        PrintWriter o = spec.commandLine().getOut();
        o.printf("{\"images\":%d,\"answers\":%d,\"dead_letters\":%d,\"seconds\":%.2f,\"images_per_s\":%.3f,\"page\":\"%s\"}%n",
                sheet.imageCount(), sheet.answerCount(), sheet.deadLetterCount(), seconds, sheet.imageCount() / seconds,
                page.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\""));
        o.flush();
        return 0;
    }

    /**
     * The job runs in other JVMs, so the progress bar follows what the exactly-once sinks have committed (at each
     * checkpoint) instead of counting results as they leave the operator.
     */
    private void runOnCluster(StreamingDemo demo, StreamExecutionEnvironment env, ProgressBar bar) throws Exception {
        demo.build(env, new Counter());
        JobClient job = env.executeAsync("latte demo");
        spec.commandLine().getErr().println("Submitted job " + job.getJobID() + " to " + cluster);
        CompletableFuture<JobExecutionResult> result = job.getJobExecutionResult();
        while (!result.isDone()) {
            bar.stepTo(ContactSheet.committedCount(out));
            try {
                result.get(500, TimeUnit.MILLISECONDS);
            } catch (TimeoutException stillRunning) {
                // poll the sinks again
            }
        }
        try {
            result.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the demo job " + job.getJobID() + " failed on the cluster at " + cluster, e.getCause());
        }
        bar.stepTo(ContactSheet.committedCount(out));
    }

    /** Flink logs every state change at INFO; the demo shows its own progress instead. */
    private static void quietFlinkLogs() {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
        }
    }

    private List<String> prompts() throws IOException {
        if (promptsFile == null) return StreamingDemo.builtIn(count);
        if (!Files.isRegularFile(promptsFile)) throw new CliError("--prompts '" + promptsFile + "' is not a file");
        if (Files.size(promptsFile) > MAX_PROMPTS_FILE_BYTES) {
            throw new CliError("--prompts '" + promptsFile + "' is " + Files.size(promptsFile) + " bytes, more than the demo reads ("
                    + MAX_PROMPTS_FILE_BYTES + "); score a large table with 'latte score'");
        }
        List<String> lines = Files.readAllLines(promptsFile, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        if (lines.isEmpty()) throw new CliError("--prompts '" + promptsFile + "' holds no prompts (one per line; # starts a comment)");
        boolean countGiven = spec.commandLine().getParseResult().hasMatchedOption("--count");
        if (!countGiven && lines.size() > MAX_PROMPTS) {
            throw new CliError("--prompts '" + promptsFile + "' holds " + lines.size() + " prompts, more than the demo's " + MAX_PROMPTS
                    + "; pass --count to stream the first ones, or score a large table with 'latte score'");
        }
        return countGiven ? lines.subList(0, Math.min(count, lines.size())) : lines;
    }

    /**
     * Makes {@code --out} ready: an earlier demo's output is replaced with {@code --force} (only the files it wrote,
     * issue 19), and the files this run will write are listed in the folder's marker before any is written.
     */
    private void prepareOut(int images) throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) throw new CliError("--out '" + out + "' is a file, not a folder");
        OutputFolder folder = OutputFolder.demo(out);
        if (folder.holdsOutput()) {
            if (!force) throw new CliError("--out '" + out + "' already holds a demo's output; pass --force to replace it or choose another folder");
            folder.clear();
        }
        List<String> entries = new ArrayList<>(List.of("stream/", "index.html", "images/"));
        for (int i = 0; i < images; i++) entries.add("images/" + StreamingDemo.imageId(i) + ".png");
        if (modelOptions.preset != null) entries.addAll(List.of("model/", "model/config.json", "model/model.safetensors", "model/tokenizer.json"));
        folder.claim(entries);
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Ticks the progress bar from inside the job (the embedded cluster runs in this JVM). */
    static final class Counter implements StreamingDemo.Progress {
        static volatile ProgressBar BAR;
        private static final AtomicLong DEAD = new AtomicLong();

        private static void tick(String what) {
            ProgressBar b = BAR;
            if (b == null) return;
            b.step();
            b.setExtraMessage(" last: " + what);
        }

        @Override
        public void image(ImageResult r) {
            tick("image " + r.id + " (batch " + r.batchSize + ")");
        }

        @Override
        public void answer(AnswerResult a) {
            tick(a.id + " -> " + a.answer);
        }

        @Override
        public void deadLetter(DeadLetter d) {
            DEAD.incrementAndGet();
            tick("dead letter " + d.id);
        }
    }
}
