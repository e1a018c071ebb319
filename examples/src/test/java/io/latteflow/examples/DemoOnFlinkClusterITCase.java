package io.latteflow.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.flink.LocalFlinkCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.latteflow.examples.LatteCliTest.latte;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code latte demo --cluster}: the same streaming demo submitted over REST to a standalone Flink session cluster of
 * separate JVMs on 127.0.0.1 (a JobManager and a TaskManager started from the Flink jars on the class path).
 */
class DemoOnFlinkClusterITCase {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private LocalFlinkCluster cluster;

    @AfterEach
    void stopCluster() {
        if (cluster == null) return;
        cluster.close();
        cluster.copyLogsTo(Path.of("target", "demo-cluster-logs"));
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void theDemoJobRunsOnAProcessClusterAndItsExactlyOnceOutputMakesTheContactSheet() throws Exception {
        cluster = new LocalFlinkCluster(dir.resolve("cluster"), 2);
        cluster.startJobManager();
        cluster.startTaskManager("tm-0");
        cluster.awaitTaskManagers(1, Duration.ofMinutes(2));
        String address = LocalFlinkCluster.HOST + ":" + cluster.restPort;

        Path out = dir.resolve("out");
        LatteCliTest.Run r = latte("demo", "--cluster", address, "--preset", "tiny", "--count", "5", "--batch", "2",
                "--parallelism", "2", "--out", out.toString());
        assertEquals(0, r.exit(), r.err() + cluster.logTails());
        assertTrue(r.err().contains("the Flink cluster at " + address), r.err());
        JsonNode summary = JSON.readTree(r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals(5, summary.get("images").asInt(), r.out());
        assertEquals(10, summary.get("answers").asInt(), "both default questions about every image");
        assertEquals(0, summary.get("dead_letters").asInt(), r.out());
        for (int i = 0; i < 5; i++) assertTrue(Files.isRegularFile(out.resolve(String.format("images/img-%04d.png", i))));

        // The job ran in the cluster's processes, not in this JVM.
        JsonNode jobs = cluster.get("/jobs/overview").path("jobs");
        assertEquals(1, jobs.size(), jobs.toString());
        assertEquals("latte demo", jobs.get(0).path("name").asText());
        assertEquals("FINISHED", jobs.get(0).path("state").asText());
        assertTrue(jobs.get(0).path("tasks").path("total").asInt() > 0, jobs.toString());
    }

    @Test
    void aClusterAddressWithNothingBehindItIsOneLineAtOnce() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        for (List<String> bad : List.of(List.of("127.0.0.1:" + port, "no Flink REST API answers at 127.0.0.1:" + port),
                List.of("localhost", "--cluster must be HOST:PORT"), List.of("localhost:http", "is not a number"))) {
            LatteCliTest.Run r = latte("demo", "--cluster", bad.get(0), "--preset", "tiny", "--count", "1",
                    "--out", dir.resolve("o-" + bad.get(0).replace(':', '_')).toString());
            assertEquals(2, r.exit(), r.err());
            assertTrue(r.err().contains(bad.get(1)), r.err());
        }
    }
}
