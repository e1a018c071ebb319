package io.latteflow.examples.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.latteflow.examples.demo.StreamingDemo;
import io.latteflow.flink.AnswerResult;
import io.latteflow.flink.DeadLetter;
import io.latteflow.flink.ImageRequest;
import io.latteflow.flink.ImageResult;
import io.latteflow.flink.LatteOptions;
import io.latteflow.flink.LatteResults;
import io.latteflow.flink.LatteStreams;
import io.latteflow.flink.LocalFlinkCluster;
import io.latteflow.flink.QuestionRequest;
import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Flink soak (issue 19, item 3): a job of mixed generate and answer requests on a standalone cluster of separate JVMs
 * on 127.0.0.1 (a JobManager, a TaskManager {@code tm-a} that lives through the whole run, and a second TaskManager
 * that is killed with SIGKILL every {@code --kill-every-s} seconds and replaced by a new process, {@code tm-b0},
 * {@code tm-b1}, ...), every request checked in the exactly-once FileSink output (no id missing, none twice), the
 * resident memory of every cluster process (VmRSS) and the TaskManagers' heap (REST metrics) sampled throughout.
 * A long run, not a test: {@code bench/soak.sh flink} runs it in the background with the launcher's JVM settings.
 *
 * <pre>
 * java -Xmx1g [the flags of ./latte] -cp examples/target/latte.jar io.latteflow.examples.soak.FlinkSoak \
 *   --preset tiny --requests 100000 --kill-every-s 60 --images data/emoji/google/64 --out target/soak/flink
 * </pre>
 *
 * Request {@code i} (ids {@code g-i} and {@code a-i}) is an image request when i is even; when odd, a question about
 * one of 32 real PNGs (from {@code --images}, else drawn by the model), without a session when i % 4 == 1 and in one of
 * 64 sessions otherwise. The cluster processes run from this JVM's class path (run it from {@code latte.jar}); the
 * job ships no jar (docs/FLINK.md). Writes {@code OUT/samples.csv} (t, process, pid, RSS, heap, job progress),
 * {@code OUT/kills.csv}, {@code OUT/summary.json} (the exactly-once check and the memory figures), the job's output
 * under {@code OUT/results/} and the process logs under {@code OUT/cluster/}. {@link SoakPlot} draws the CSV.
 */
public final class FlinkSoak {
    static final String USAGE = """
            usage: FlinkSoak [--preset tiny|small | --model DIR] [--requests N] [--kill-every-s S] [--steps N] [--batch N]
                             [--delay-ms MS] [--checkpoint-ms MS] [--max-new-tokens N] [--images DIR] [--tm-memory SIZE]
                             [--sample-s S] [--warmup-s S] [--max-minutes M] [--out DIR]""";
    static final Set<String> TERMINAL = Set.of("FINISHED", "FAILED", "CANCELED", "SUSPENDED");
    static final List<String> QUESTIONS = List.of("what is this?", "which category is this?", "what skin tone is this?", "is this a flag?");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long t0 = System.nanoTime();

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        Map<String, String> o = ProcessMemory.options(args, USAGE);
        new FlinkSoak().run(o);
    }

    private double now() {
        return (System.nanoTime() - t0) / 1e9;
    }

    private void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[%tT %7.1f s] %s%n", System.currentTimeMillis(), now(), String.format(Locale.ROOT, format, args));
    }

    private void run(Map<String, String> o) throws Exception {
        long requests = Long.parseLong(o.getOrDefault("requests", "100000"));
        double killEvery = Double.parseDouble(o.getOrDefault("kill-every-s", "60"));
        Integer steps = o.containsKey("steps") ? Integer.valueOf(o.get("steps")) : null;
        int batch = Integer.parseInt(o.getOrDefault("batch", "16"));
        long delayMs = Long.parseLong(o.getOrDefault("delay-ms", "50"));
        long checkpointMs = Long.parseLong(o.getOrDefault("checkpoint-ms", "1000"));
        double sampleS = Double.parseDouble(o.getOrDefault("sample-s", "2"));
        double maxMinutes = Double.parseDouble(o.getOrDefault("max-minutes", "45"));
        double warmupS = Double.parseDouble(o.getOrDefault("warmup-s", "120"));
        Path out = Path.of(o.getOrDefault("out", "target/soak/flink")).toAbsolutePath();
        if (Files.isDirectory(out)) {
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent()) throw new IllegalArgumentException("--out " + out + " is not empty: choose a new folder");
            }
        }
        Files.createDirectories(out);

        // The model, and the PNGs the questions ask about.
        Path modelDir;
        String modelName;
        List<byte[]> pngs = new ArrayList<>();
        if (o.containsKey("model")) {
            modelDir = Path.of(o.get("model")).toAbsolutePath();
            modelName = modelDir.toString();
        } else {
            String preset = o.getOrDefault("preset", "tiny");
            modelDir = out.resolve("model");
            modelName = "untrained preset " + preset + " (init seed 0)";
            try (LatteFlow flow = LatteFlow.create(LatteConfig.preset(preset), 0)) {
                flow.save(modelDir);
            }
        }
        if (o.containsKey("images")) {
            try (Stream<Path> s = Files.list(Path.of(o.get("images")))) {
                List<Path> files = s.filter(p -> p.getFileName().toString().endsWith(".png")).sorted().toList();
                for (int i = 0; i < files.size() && pngs.size() < 32; i += Math.max(1, files.size() / 32)) pngs.add(Files.readAllBytes(files.get(i)));
            }
        }
        if (pngs.isEmpty()) {
            try (LatteFlow flow = LatteFlow.load(modelDir)) {
                List<GenerationRequest> rs = new ArrayList<>();
                for (int i = 0; i < 16; i++) rs.add(GenerationRequest.of(StreamingDemo.BUILT_IN.get(i)).withSeed(i));
                for (GeneratedImage g : flow.generate(rs)) pngs.add(g.png());
            }
        }
        LatteOptions.Builder ob = LatteOptions.builder().model(modelDir.toString()).maxBatchSize(batch).maxBatchDelay(Duration.ofMillis(delayMs));
        if (o.containsKey("max-new-tokens")) ob.maxNewTokens(Integer.parseInt(o.get("max-new-tokens")));
        LatteOptions options = ob.build();

        Path results = Files.createDirectories(out.resolve("results"));
        // The ITCases' process cluster (LocalFlinkCluster, from latte.jar here), with JIT compilers as in production and
        // every failover kept in the job's exception history (the default keeps 16); restarts are the job's own.
        try (LocalFlinkCluster cluster = new LocalFlinkCluster(out.resolve("cluster"), 1, o.getOrDefault("tm-memory", "1600m"),
                List.of(), Map.of(WebOptions.MAX_EXCEPTION_HISTORY_SIZE, 10000));
             BufferedWriter samples = Files.newBufferedWriter(out.resolve("samples.csv"), StandardCharsets.UTF_8);
             BufferedWriter kills = Files.newBufferedWriter(out.resolve("kills.csv"), StandardCharsets.UTF_8)) {
            samples.write("t_s,process,pid,rss_mb,heap_used_mb,heap_resident_mb,job_state,restarts,checkpoints,committed\n");
            kills.write("t_s,killed,pid,rss_mb_at_kill,peak_rss_mb,started,committed_at_kill\n");
            cluster.startJobManager();
            cluster.startTaskManager("tm-a");
            String victim = "tm-b0";
            cluster.startTaskManager(victim);
            cluster.awaitTaskManager("tm-a", Duration.ofMinutes(3));
            cluster.awaitTaskManager(victim, Duration.ofMinutes(3));
            log("cluster up (JobManager rest %d); model %s; %d requests, a TaskManager killed every %.0f s", cluster.restPort,
                    modelName, requests, killEvery);

            Configuration job = new Configuration();
            job.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            job.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 100000);
            job.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
            job.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, cluster.dir.resolve("checkpoints").toUri().toString());
            // The model operators are slow next to their sources, so the requests in the network buffers would hold an
            // aligned barrier back for minutes: unaligned checkpoints take the in-flight requests into the checkpoint.
            job.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(LocalFlinkCluster.HOST, cluster.restPort, job);
            env.setParallelism(2);
            env.enableCheckpointing(checkpointMs);
            build(env, requests, steps, pngs, options, results);
            JobClient client = env.executeAsync("latte soak");
            if (client instanceof AutoCloseable c) c.close();
            String id = client.getJobID().toHexString();
            double submitted = now();
            log("submitted job %s", id);

            String state = "CREATED";
            double nextSample = 0, nextCount = 0, nextKill = submitted + killEvery;
            int committed = 0, victims = 1;
            long restarts = 0, checkpoints = 0;
            Map<String, Double> peak = new HashMap<>();
            Map<String, List<double[]>> series = new HashMap<>();       // process -> {t, rss, heap, rss outside the heap}
            while (true) {
                double t = now();
                if (t >= nextSample) {
                    JsonNode j = cluster.get("/jobs/" + id);
                    if (j != null) state = j.path("state").asText(state);
                    JsonNode cps = cluster.get("/jobs/" + id + "/checkpoints");
                    if (cps != null) checkpoints = cps.path("counts").path("completed").asLong(checkpoints);
                    restarts = Math.max(restarts, metric(cluster, "/jobs/" + id + "/metrics?get=numRestarts", "numRestarts", restarts));
                    if (t >= nextCount || TERMINAL.contains(state)) {
                        committed = committedLines(results).size();
                        nextCount = t + 10;
                    }
                    List<String> registered = cluster.registeredTaskManagers();
                    for (String name : cluster.names()) {
                        if (!cluster.alive(name)) continue;
                        double rss = ProcessMemory.rssMb(cluster.pid(name));
                        peak.merge(name, rss, Math::max);
                        double heap = registered.contains(name)
                                ? metric(cluster, "/taskmanagers/" + name + "/metrics?get=Status.JVM.Memory.Heap.Used", "Status.JVM.Memory.Heap.Used") / 1048576.0
                                : Double.NaN;
                        double heapResident = ProcessMemory.heapResidentMb(cluster.pid(name));
                        samples.write(String.format(Locale.ROOT, "%.2f,%s,%d,%.1f,%.1f,%.1f,%s,%d,%d,%d%n", t, name, cluster.pid(name), rss,
                                heap, heapResident, state, restarts, checkpoints, committed));
                        if (!TERMINAL.contains(state)) {
                            series.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[]{t - submitted, rss, heap, rss - heapResident});
                        }
                    }
                    samples.flush();
                    nextSample = t + sampleS;
                    if (TERMINAL.contains(state)) break;
                }
                if (t >= nextKill && cluster.registeredTaskManagers().contains(victim)) {
                    double rss = ProcessMemory.rssMb(cluster.pid(victim));
                    long pid = cluster.pid(victim);
                    cluster.kill(victim);
                    String next = "tm-b" + victims++;
                    cluster.startTaskManager(next);
                    kills.write(String.format(Locale.ROOT, "%.2f,%s,%d,%.1f,%.1f,%s,%d%n", t, victim, pid, rss, peak.getOrDefault(victim, rss),
                            next, committed));
                    kills.flush();
                    log("killed %s (pid %d, %.0f MB resident) with %d of %d results committed; started %s; %d restarts so far",
                            victim, pid, rss, committed, requests, next, restarts);
                    victim = next;
                    nextKill = t + killEvery;
                }
                if (t - submitted > maxMinutes * 60) {
                    log("--max-minutes %.0f passed: cancelling the job", maxMinutes);
                    client.cancel().get();
                    state = "CANCELED (time limit)";
                    break;
                }
                Thread.sleep(100);
            }
            double seconds = now() - submitted;
            log("job %s after %.0f s", state, seconds);
            Map<String, Object> afterJob = afterTheJob(cluster, "tm-a");

            // The exactly-once check: every id once, in the results or the dead letters.
            List<String> lines = committedLines(results);
            Map<String, Integer> seen = new HashMap<>();
            Map<String, Integer> kinds = new TreeMap<>();
            List<String> deadLetters = new ArrayList<>();
            for (String l : lines) {
                String[] f = l.split("\t", 3);
                seen.merge(f[1], 1, Integer::sum);
                kinds.merge(f[0], 1, Integer::sum);
                if (f[0].equals("d") && deadLetters.size() < 20) deadLetters.add(l);
            }
            long missing = 0;
            List<String> missingIds = new ArrayList<>();
            for (long i = 0; i < requests; i++) {
                String rid = (i % 2 == 0 ? "g-" : "a-") + i;
                if (!seen.containsKey(rid)) {
                    missing++;
                    if (missingIds.size() < 20) missingIds.add(rid);
                }
            }
            List<String> duplicates = seen.entrySet().stream().filter(e -> e.getValue() > 1).map(e -> e.getKey() + " x" + e.getValue()).limit(20).toList();
            long duplicateCount = seen.values().stream().filter(v -> v > 1).count();

            Map<String, Object> s = new LinkedHashMap<>();
            s.put("model", modelName);
            s.put("settings", o);
            s.put("requests", requests);
            s.put("job_state", state);
            s.put("job_seconds", Math.round(seconds));
            s.put("requests_per_s", Math.round(requests / seconds * 10) / 10.0);
            s.put("kills", victims - 1);
            s.put("taskmanagers_started", victims + 1);
            s.put("restarts", restarts);
            JsonNode exceptions = cluster.get("/jobs/" + id + "/exceptions");
            s.put("failovers_in_exception_history", exceptions == null ? -1 : exceptions.path("exceptionHistory").path("entries").size());
            s.put("checkpoints_completed", checkpoints);
            s.put("output_lines", lines.size());
            s.put("output_by_kind", kinds);
            s.put("distinct_ids", seen.size());
            s.put("missing", missing);
            s.put("missing_examples", missingIds);
            s.put("duplicated_ids", duplicateCount);
            s.put("duplicate_examples", duplicates);
            s.put("dead_letter_examples", deadLetters);
            s.put("exactly_once", missing == 0 && duplicateCount == 0 && seen.size() == requests);
            s.put("warmup_s", warmupS);
            s.put("tm_a", memory(series.get("tm-a"), warmupS));
            s.put("tm_a_after_the_job", afterJob);
            s.put("jobmanager", memory(series.get("jobmanager"), warmupS));
            // Each replaced TaskManager: its peak and its resident size when killed, in the order they ran.
            List<Double> victimPeaks = new ArrayList<>();
            for (int v = 0; v < victims; v++) {
                List<double[]> vs = series.get("tm-b" + v);
                if (vs != null) victimPeaks.add(vs.stream().mapToDouble(r -> r[1]).max().orElse(Double.NaN));
            }
            s.put("killed_tm_peak_rss_mb", victimPeaks);
            double[] index = new double[victimPeaks.size()];
            for (int v = 0; v < index.length; v++) index[v] = v;
            s.put("killed_tm_peak_rss_mb_per_restart", round(ProcessMemory.slope(index, victimPeaks.stream().mapToDouble(Double::doubleValue).toArray()), 3));
            s.put("peak_rss_mb_by_process", new TreeMap<>(peak));
            String json = JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(s);
            Files.writeString(out.resolve("summary.json"), json + "\n");
            System.out.println(json);
        }
    }

    /**
     * A process's resident memory ({t, rss, heap, rss outside the heap} samples while the job ran, t from submission): at the end of warm-up,
     * at the end, its peak, and the least-squares slope after warm-up in MB per minute.
     */
    private static Map<String, Object> memory(List<double[]> rows, double warmupS) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (rows == null || rows.isEmpty()) return m;
        List<double[]> after = rows.stream().filter(r -> r[0] >= warmupS).toList();
        if (after.isEmpty()) after = rows;
        m.put("rss_mb_first", round(rows.get(0)[1], 1));
        m.put("rss_mb_warmup_end", round(after.get(0)[1], 1));
        m.put("rss_mb_end", round(rows.get(rows.size() - 1)[1], 1));
        m.put("rss_mb_peak", round(rows.stream().mapToDouble(r -> r[1]).max().orElse(Double.NaN), 1));
        m.put("heap_mb_end", round(rows.get(rows.size() - 1)[2], 1));
        double[] minutes = after.stream().mapToDouble(r -> r[0] / 60).toArray();
        m.put("rss_mb_per_minute_after_warmup", round(ProcessMemory.slope(minutes, after.stream().mapToDouble(r -> r[1]).toArray()), 3));
        m.put("heap_mb_per_minute_after_warmup", round(ProcessMemory.slope(minutes, after.stream().mapToDouble(r -> r[2]).toArray()), 3));
        // VmRSS less the heap's resident pages: what a TaskManager holds outside the heap Flink sized for it.
        m.put("outside_heap_rss_mb_warmup_end", round(after.get(0)[3], 1));
        m.put("outside_heap_rss_mb_end", round(rows.get(rows.size() - 1)[3], 1));
        m.put("outside_heap_rss_mb_per_minute_after_warmup", round(ProcessMemory.slope(minutes, after.stream().mapToDouble(r -> r[3]).toArray()), 3));
        return m;
    }

    /**
     * What of a TaskManager's resident memory is garbage not yet collected, and what glibc keeps after it is freed:
     * its VmRSS once the job is over, after a full collection ({@code jcmd PID GC.run}), and after
     * {@code malloc_trim(0)} (through gdb, when installed).
     */
    private Map<String, Object> afterTheJob(LocalFlinkCluster cluster, String name) throws InterruptedException {
        Map<String, Object> m = new LinkedHashMap<>();
        if (!cluster.alive(name)) return m;
        long pid = cluster.pid(name);
        Thread.sleep(3000);
        m.put("rss_mb_idle", round(ProcessMemory.rssMb(pid), 1));
        m.put("heap_resident_mb_idle", round(ProcessMemory.heapResidentMb(pid), 1));
        m.put("jcmd_gc", command(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid), "GC.run"));
        Thread.sleep(5000);
        m.put("rss_mb_after_full_gc", round(ProcessMemory.rssMb(pid), 1));
        m.put("gdb_malloc_trim", command("gdb", "-p", Long.toString(pid), "-batch", "-ex", "call (int)malloc_trim(0)"));
        Thread.sleep(1000);
        m.put("rss_mb_after_malloc_trim", round(ProcessMemory.rssMb(pid), 1));
        log("%s after the job: %s", name, m);
        return m;
    }

    private static String command(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS) ? "exit " + p.exitValue() : "timed out";
        } catch (IOException e) {
            return "not run: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Double.isNaN(v) ? v : Math.round(v * f) / f;
    }

    /** A metric's value from a REST metrics query, or NaN. */
    private static double metric(LocalFlinkCluster cluster, String path, String name) throws InterruptedException {
        JsonNode m = cluster.get(path);
        if (m == null) return Double.NaN;
        for (JsonNode e : m) if (name.equals(e.path("id").asText())) return e.path("value").asDouble(Double.NaN);
        return Double.NaN;
    }

    private static long metric(LocalFlinkCluster cluster, String path, String name, long orElse) throws InterruptedException {
        double v = metric(cluster, path, name);
        return Double.isNaN(v) ? orElse : (long) v;
    }

    /** The soak job: requests 0..n-1 from a checkpointed sequence source, mixed generate and answer, one exactly-once sink. */
    static void build(StreamExecutionEnvironment env, long n, Integer steps, List<byte[]> pngs, LatteOptions options, Path results) {
        List<String> captions = StreamingDemo.builtIn(StreamingDemo.BUILT_IN.size() * 2);
        List<String> questions = QUESTIONS;
        byte[][] images = pngs.toArray(new byte[0][]);
        DataStream<Long> ids = env.fromSequence(0, n - 1).name("request ids");
        DataStream<ImageRequest> prompts = ids.filter(i -> i % 2 == 0)
                .map(i -> ImageRequest.of("g-" + i, captions.get((int) ((i / 2) % captions.size()))).withSteps(steps))
                .name("image requests");
        DataStream<QuestionRequest> asked = ids.filter(i -> i % 2 == 1)
                .map(i -> QuestionRequest.of("a-" + i, i % 4 == 1 ? null : "s-" + (i / 4) % 64, images[(int) ((i / 2) % images.length)],
                        questions.get((int) ((i / 2) % questions.size()))))
                .name("questions");
        LatteResults<ImageResult> drawn = LatteStreams.generate(prompts, options);
        LatteResults<AnswerResult> answered = LatteStreams.answer(asked, options);
        DataStream<String> lines = drawn.results().map(r -> "g\t" + r.id + "\t" + r.png.length).name("image lines")
                .union(answered.results().map(a -> "a\t" + a.id + "\t" + oneLine(a.answer)).name("answer lines"))
                .union(drawn.deadLetters().union(answered.deadLetters()).map(d -> "d\t" + d.id + "\t" + oneLine(d.task + ": " + d.reason))
                        .name("dead letter lines"));
        lines.sinkTo(FileSink.forRowFormat(new org.apache.flink.core.fs.Path(results.toUri()), new SimpleStringEncoder<String>())
                .withRollingPolicy(OnCheckpointRollingPolicy.build()).build()).name("exactly-once results");
    }

    static String oneLine(String s) {
        return s == null ? "null" : s.replaceAll("\\s", " ");
    }

    /** Lines of the committed part files (in-progress and pending ones start with a dot). */
    static List<String> committedLines(Path dir) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try (Stream<Path> files = Files.walk(dir)) {
                return files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).flatMap(p -> {
                    try {
                        return Files.readAllLines(p, StandardCharsets.UTF_8).stream();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }).filter(l -> !l.isBlank()).toList();
            } catch (IOException | UncheckedIOException e) {
                if (attempt == 10) throw new IllegalStateException("cannot read " + dir, e);
                Thread.sleep(50);
            }
        }
    }
}
