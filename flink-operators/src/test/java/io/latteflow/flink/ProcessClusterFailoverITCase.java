package io.latteflow.flink;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The multi-process version of {@link FailoverExactlyOnceITCase}: a standalone Flink cluster of separate JVMs on
 * 127.0.0.1 (one JobManager, two TaskManagers with one slot each), a job submitted over REST, one TaskManager
 * process SIGKILLed mid-stream and a replacement started. The exactly-once FileSink output has every request once,
 * the job restarted, and the pictures drawn in the TaskManagers equal direct model calls in this JVM.
 */
class ProcessClusterFailoverITCase {
    static final int REQUESTS = 200;
    /** Per record and source subtask: 2 subtasks make about 40 requests/s, so the stream lasts about 5 s at most speed. */
    static final long SOURCE_PAUSE_MS = 50;
    static final List<String> CAPTIONS = List.of("red apple", "smiling face", "cat", "green tree");
    static final Set<String> TERMINAL = Set.of("FINISHED", "FAILED", "CANCELED", "SUSPENDED");

    @TempDir
    Path tmp;

    private LocalFlinkCluster cluster;

    @AfterEach
    void stopCluster() {
        if (cluster == null) return;
        cluster.close();
        // The temp dir goes away after the test: keep the process logs for a look afterwards.
        cluster.copyLogsTo(Path.of("target", "process-cluster-logs"));
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void aTaskManagerProcessKilledMidStreamNeitherLosesNorDuplicatesAnImage() throws Throwable {
        long t0 = System.nanoTime();
        cluster = new LocalFlinkCluster(tmp.resolve("cluster"), 1);
        try {
            run(t0);
        } catch (Throwable t) {
            throw new AssertionError(t.getMessage() + "\nprocess logs:" + cluster.logTails(), t);
        }
    }

    private void run(long t0) throws Exception {
        cluster.startJobManager();
        cluster.startTaskManager("tm-0");
        cluster.startTaskManager("tm-1");
        // The model is saved (and ND4J loaded in this JVM) while the cluster starts.
        String model = TinyModel.dir().toString();
        cluster.awaitTaskManagers(2, Duration.ofMinutes(2));
        log(t0, "cluster up: JobManager rpc " + cluster.rpcPort + ", rest " + cluster.restPort + ", 2 TaskManagers");

        Path out = Files.createDirectories(tmp.resolve("out"));
        Configuration job = new Configuration();
        job.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        job.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 30);
        job.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
        job.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, tmp.resolve("cluster").resolve("checkpoints").toUri().toString());
        // No jar files: the job graph goes to the JobManager through its REST API (RestClusterClient), and the
        // user code (these test classes, flink-operators, the model module, ND4J) is already on the system
        // classpath of every cluster process, since they run from this JVM's classpath. A job without jars gets a
        // user-code class loader with no URLs, which finds nothing itself and so delegates every class to that
        // system class loader (child-first only matters for classes the job's jars contain). Shipping the
        // classes again in a jar would load a second copy of them next to the first (and of SharedModels with it).
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(LocalFlinkCluster.HOST, cluster.restPort, job);
        env.setParallelism(2);
        env.enableCheckpointing(200);
        var requests = env.fromSequence(0, REQUESTS - 1).map(i -> {
            Thread.sleep(SOURCE_PAUSE_MS);
            return ImageRequest.of("req-" + i, CAPTIONS.get((int) (i % CAPTIONS.size()))).withSteps(2);
        });
        LatteResults<ImageResult> images = LatteStreams.generate(requests,
                LatteOptions.builder().model(model).maxBatchSize(4).maxBatchDelay(Duration.ofMillis(30)).build());
        images.results()
                .map(r -> r.id + "\t" + sha256(r.png))
                .sinkTo(FileSink.forRowFormat(new org.apache.flink.core.fs.Path(out.toUri()), new SimpleStringEncoder<String>())
                        .withRollingPolicy(OnCheckpointRollingPolicy.build()).build());

        JobClient client = env.executeAsync("process-cluster-failover");
        // The REST client behind it (ClusterClientJobClientAdapter) is closeable, the JobClient interface is not.
        if (client instanceof AutoCloseable c) c.close();
        String id = client.getJobID().toHexString();
        log(t0, "submitted job " + id);

        // Mid-stream: a checkpoint completed and its output is committed, but most requests are still to come.
        int committedAtKill;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (true) {
            String state = state(id);
            assertAllAlive();
            if (TERMINAL.contains(state)) fail("the job ended (" + state + ") before a TaskManager was killed");
            JsonNode cps = cluster.get("/jobs/" + id + "/checkpoints");
            int completed = cps == null ? 0 : cps.path("counts").path("completed").asInt();
            int committed = committedLines(out).size();
            if (completed >= 1 && committed >= 8) {
                committedAtKill = committed;
                break;
            }
            if (System.nanoTime() > deadline) fail("no committed output 3 minutes after submission (job " + state + ")");
            Thread.sleep(100);
        }
        JsonNode tms = cluster.get("/taskmanagers");
        List<String> busy = new ArrayList<>();
        for (JsonNode tm : tms.path("taskmanagers")) {
            busy.add(tm.path("id").asText() + ": " + tm.path("assignedTasks").asInt() + " tasks");
            assertEquals(0, tm.path("freeSlots").asInt(), "every TaskManager runs a part of the job: " + tm);
        }
        log(t0, "killing tm-1 (pid " + cluster.pid("tm-1") + ") with " + committedAtKill + " of " + REQUESTS
                + " results committed; " + busy);
        cluster.kill("tm-1");
        // One slot per TaskManager and parallelism 2: the job needs a second TaskManager to run again.
        cluster.startTaskManager("tm-2");

        deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        String state;
        while (!TERMINAL.contains(state = state(id))) {
            assertAllAlive();
            if (System.nanoTime() > deadline) fail("job " + id + " not finished 4 minutes after the kill (" + state + ")");
            Thread.sleep(250);
        }
        JsonNode exceptions = cluster.get("/jobs/" + id + "/exceptions");
        List<String> failures = new ArrayList<>();
        for (JsonNode e : exceptions.path("exceptionHistory").path("entries")) {
            failures.add(e.path("exceptionName").asText() + " on " + e.path("taskManagerId").asText("?"));
        }
        JsonNode restored = cluster.get("/jobs/" + id + "/checkpoints").path("latest").path("restored");
        log(t0, "job " + state + " after " + failures.size() + " failure(s) " + failures + ", restored from checkpoint "
                + restored.path("id").asText("none"));
        assertEquals("FINISHED", state, "job state; failures " + failures);
        assertTrue(restored.has("id"), "the job restored its state from a checkpoint");
        assertTrue(failures.size() >= 1, "the job failed over at least once");
        assertTrue(committedAtKill < REQUESTS, "the TaskManager died mid-stream");

        List<String> lines = committedLines(out);
        Map<String, Long> counts = lines.stream().collect(Collectors.groupingBy(l -> l.split("\t")[0], Collectors.counting()));
        assertEquals(REQUESTS, counts.size(), "every request is in the output");
        assertEquals(REQUESTS, lines.size(), "no request is in it twice: " + counts.entrySet().stream().filter(e -> e.getValue() > 1).toList());
        Map<String, String> hashes = new HashMap<>();
        for (String l : lines) hashes.put(l.split("\t")[0], l.split("\t")[1]);
        for (int i = 0; i < REQUESTS; i += 23) {
            ImageRequest r = ImageRequest.of("req-" + i, CAPTIONS.get(i % CAPTIONS.size())).withSteps(2);
            assertEquals(sha256(TinyModel.direct(r)), hashes.get(r.id), "image of " + r.id + " drawn in a TaskManager process");
        }
        log(t0, "done");
    }

    private void assertAllAlive() {
        String dead = cluster.deadProcess();
        if (dead != null) fail(dead + " exited by itself");
    }

    private String state(String jobId) throws InterruptedException {
        JsonNode job = cluster.get("/jobs/" + jobId);
        return job == null ? "UNKNOWN" : job.path("state").asText("UNKNOWN");
    }

    /** Lines of the committed part files (in-progress and pending ones start with a dot); safe while the sink renames. */
    static List<String> committedLines(Path dir) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try (Stream<Path> files = Files.walk(dir)) {
                return files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                        .flatMap(p -> {
                            try {
                                return Files.readAllLines(p).stream();
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        }).filter(l -> !l.isBlank()).collect(Collectors.toList());
            } catch (IOException | UncheckedIOException e) {
                if (attempt == 10) throw new IllegalStateException("cannot read " + dir, e);
                Thread.sleep(20);
            }
        }
    }

    /** Here, not FailoverExactlyOnceITCase's: the TaskManagers would load that class, MiniCluster field and all. */
    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static void log(long t0, String what) {
        System.out.printf("[%6.1f s] %s%n", (System.nanoTime() - t0) / 1e9, what);
    }
}
