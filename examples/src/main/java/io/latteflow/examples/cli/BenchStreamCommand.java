package io.latteflow.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.flink.ImageRequest;
import io.latteflow.flink.ImageResult;
import io.latteflow.flink.LatteOptions;
import io.latteflow.flink.LatteStreams;
import io.latteflow.flink.SharedModels;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.RequestLimits;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.legacy.SinkFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * {@code latte bench-stream}: the Flink operator's throughput per record and micro-batched, against the bare
 * model's batched throughput, and continuous against static batching under one steady arrival rate. The model is
 * loaded and warmed once and held for every job (the operators share it through {@link SharedModels}), so each
 * figure is the span from the first request reaching the operator to the last result, without job start-up.
 */
@Command(name = "bench-stream", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmark the Flink operator: per-record vs micro-batched throughput, operator vs bare model, "
                + "continuous vs static batching at one arrival rate; one JSON object as the last stdout line.")
public final class BenchStreamCommand implements Callable<Integer> {
    private static final String[] PROMPTS = {"red apple", "smiling face", "blue car", "a cat", "green tree", "yellow star"};
    /** Results of the running job, with the time each reached the sink (the job runs in this JVM). */
    static final Queue<long[]> SEEN = new ConcurrentLinkedQueue<>();

    @Spec
    CommandSpec spec;

    @Option(names = "--preset", paramLabel = "tiny|small|bench", defaultValue = "small",
            description = "Size of the freshly initialised model (weights do not change the cost). Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--model", paramLabel = "DIR", description = "A trained model directory instead of --preset.")
    Path model;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "48", description = "Requests per measured job. Default: ${DEFAULT-VALUE}.")
    int requests;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "16", description = "latte.max-batch-size of the batched runs. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "20", description = "Euler steps per image. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--repeats", paramLabel = "R", defaultValue = "3",
            description = "Alternating bare-model and micro-batched operator runs; operator_fraction is the median of their "
                    + "ratios, so load that drifts during the run shifts both sides. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--load", paramLabel = "F", defaultValue = "0.7",
            description = "Arrival rate of the continuous-vs-static runs as a fraction of the bare model's batched throughput. Default: ${DEFAULT-VALUE}.")
    double load;

    @Override
    public Integer call() throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
        if (requests < 2) throw bad("--requests must be >= 2, got " + requests);
        if (batch < 1 || steps < 1 || repeats < 1) throw bad("--batch, --steps and --repeats must be >= 1");
        String tooMany = RequestLimits.DEFAULTS.generationRefusal("bench", steps, null);       // issue 19: one step cap everywhere
        if (tooMany != null) throw bad("--steps: " + tooMany);
        if (!(load > 0 && load <= 2)) throw bad("--load must be in (0, 2], got " + load);
        PrintWriter err = spec.commandLine().getErr();
        Path dir = modelDir();
        try (SharedModels.Lease lease = SharedModels.acquire(dir, 1)) {
            LatteFlow flow = lease.copy(0);
            List<GenerationRequest> warm = new ArrayList<>();
            for (int i = 0; i < batch; i++) warm.add(request(i));
            flow.generate(warm);                                                   // builds every group's graph
            flow.generate(warm.get(0));
            Run perRecord = run(dir, LatteOptions.Batching.STATIC, 1, 0);
            err.printf("operator, per record: %.2f images/s%n", perRecord.rps);
            double[] bares = new double[repeats], batcheds = new double[repeats], fractions = new double[repeats];
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < requests; i += batch) flow.generate(warm.subList(0, Math.min(batch, requests - i)));
                bares[r] = requests / ((System.nanoTime() - t0) / 1e9);
                batcheds[r] = run(dir, LatteOptions.Batching.STATIC, batch, 0).rps;
                fractions[r] = batcheds[r] / bares[r];
                err.printf("repeat %d: bare model %.2f images/s, operator micro-batched (%d) %.2f images/s (%.0f%%)%n",
                        r + 1, bares[r], batch, batcheds[r], 100 * fractions[r]);
            }
            double bare = median(bares), batched = median(batcheds);
            long gapMicros = Math.round(1e6 / (load * bare));
            err.printf("steady arrivals every %.1f ms (%.0f%% of the bare batched rate):%n", gapMicros / 1e3, 100 * load);
            Run stat = run(dir, LatteOptions.Batching.STATIC, batch, gapMicros);
            err.printf("  static:     %.2f images/s, latency p50 %.0f ms, p99 %.0f ms%n", stat.rps, stat.p50, stat.p99);
            Run cont = run(dir, LatteOptions.Batching.CONTINUOUS, batch, gapMicros);
            err.printf("  continuous: %.2f images/s, latency p50 %.0f ms, p99 %.0f ms%n", cont.rps, cont.p50, cont.p99);
            err.flush();

            ObjectNode json = new ObjectMapper().createObjectNode();
            json.put("model", model != null ? model.toString() : "untrained preset " + preset);
            json.put("requests", requests).put("batch", batch).put("steps", steps);
            json.put("bare_batched_rps", round(bare));
            json.put("per_record_rps", round(perRecord.rps)).put("batched_rps", round(batched));
            json.put("batching_ratio", round(batched / perRecord.rps));
            json.put("operator_fraction", round(median(fractions)));
            json.put("repeats", repeats);
            var fractionRuns = json.putArray("operator_fraction_runs");
            for (double f : fractions) fractionRuns.add(round(f));
            json.put("arrival_interval_ms", round(gapMicros / 1e3));
            json.put("static_rps", round(stat.rps)).put("static_p50_ms", round(stat.p50)).put("static_p99_ms", round(stat.p99));
            json.put("continuous_rps", round(cont.rps)).put("continuous_p50_ms", round(cont.p50)).put("continuous_p99_ms", round(cont.p99));
            json.put("omp_num_threads", String.valueOf(System.getenv("OMP_NUM_THREADS")));
            json.put("cpus", Runtime.getRuntime().availableProcessors());
            PrintWriter out = spec.commandLine().getOut();
            out.println(json);
            out.flush();
        }
        return 0;
    }

    private record Run(double rps, double p50, double p99) {
    }

    /** One job; throughput over the span from the first arrival at the operator to the last result. */
    private Run run(Path dir, LatteOptions.Batching batching, int maxBatch, long gapMicros) throws Exception {
        SEEN.clear();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1);
        List<ImageRequest> in = new ArrayList<>();
        for (int i = 0; i < requests; i++) in.add(ImageRequest.of("b" + i, PROMPTS[i % PROMPTS.length]).withSteps(steps).withSeed((long) i));
        int n = requests;
        var stream = env.fromData(in).map(r -> {
            if (gapMicros > 0) {
                // a steady rate: request i enters at start + i * gap
                long due = Pacer.start(n) + Long.parseLong(r.id.substring(1)) * gapMicros * 1000;
                long wait = due - System.nanoTime();
                if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            return r;
        });
        LatteOptions options = LatteOptions.builder().model(dir.toString()).maxBatchSize(maxBatch).maxBatchDelay(Duration.ofMillis(20))
                .batching(batching).build();
        LatteStreams.generate(stream, options).results().addSink(new Record());
        Pacer.reset();
        env.execute("bench-stream");
        if (SEEN.size() != requests) throw new IllegalStateException("expected " + requests + " results, got " + SEEN.size());
        long first = Long.MAX_VALUE, last = Long.MIN_VALUE;
        double[] lat = new double[requests];
        int i = 0;
        for (long[] s : SEEN) {
            first = Math.min(first, s[0] - s[1]);
            last = Math.max(last, s[0]);
            lat[i++] = s[1];
        }
        Arrays.sort(lat);
        return new Run(requests / ((last - first) / 1e3), lat[(int) Math.floor(0.5 * (requests - 1))], lat[(int) Math.ceil(0.99 * (requests - 1))]);
    }

    /** The shared start time of a paced stream (the source runs in this JVM). */
    static final class Pacer {
        private static volatile long start;

        static synchronized long start(int ignored) {
            if (start == 0) start = System.nanoTime();
            return start;
        }

        static synchronized void reset() {
            start = 0;
        }
    }

    /** Keeps (wall time ms, latency ms) of each result. */
    static final class Record implements SinkFunction<ImageResult> {
        @Override
        public void invoke(ImageResult r, Context context) {
            SEEN.add(new long[]{System.currentTimeMillis(), Math.round(r.latencyMs)});
        }
    }

    private GenerationRequest request(int i) {
        return GenerationRequest.of(PROMPTS[i % PROMPTS.length]).withSteps(steps).withSeed(i);
    }

    private Path modelDir() throws Exception {
        if (model != null) {
            Path dir = ModelOptions.resolve(model);
            if (!Files.isDirectory(dir)) throw new CliError("No model at '" + model + "'");
            return dir.toAbsolutePath();
        }
        LatteConfig config = ModelOptions.presetConfig(spec, "--preset", preset);
        Path dir = Files.createTempDirectory("latte-bench-stream");
        dir.toFile().deleteOnExit();
        try (LatteFlow flow = LatteFlow.create(config, 0)) {
            flow.save(dir);
        }
        return dir;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
