package io.latteflow.examples.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A standalone Flink session cluster of separate JVMs on 127.0.0.1 for {@link FlinkSoak}, started the way
 * flink-dist's scripts would start it (a {@code StandaloneSessionClusterEntrypoint} and {@code TaskManagerRunner}s
 * with the memory flags Flink computes from the process sizes), from this JVM's class path, that is
 * {@code latte.jar}, which carries Flink 2.3.0, the operators, ND4J and the soak job's classes, as docs/FLINK.md
 * asks of a real cluster. The same approach as the flink-operators test {@code LocalFlinkCluster}, which is not in
 * the jar. Every process writes its output to {@code DIR/NAME.log}.
 */
final class SoakCluster implements AutoCloseable {
    static final String HOST = "127.0.0.1";
    private static final ObjectMapper JSON = new ObjectMapper();

    final Path dir, confDir;
    final int rpcPort, restPort;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Configuration config;
    private final Path argFile;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Thread reaper = new Thread(this::destroyAll, "soak-cluster-reaper");

    SoakCluster(Path dir, int slotsPerTaskManager, String taskManagerMemory) throws IOException {
        this.dir = Files.createDirectories(dir.toAbsolutePath());
        this.confDir = Files.createDirectories(this.dir.resolve("conf"));
        this.rpcPort = freePort();
        int rest;
        do rest = freePort(); while (rest == rpcPort);
        this.restPort = rest;
        Map<ConfigOption<?>, Object> c = new LinkedHashMap<>();
        c.put(JobManagerOptions.ADDRESS, HOST);
        c.put(JobManagerOptions.BIND_HOST, HOST);
        c.put(JobManagerOptions.PORT, rpcPort);
        c.put(RestOptions.ADDRESS, HOST);
        c.put(RestOptions.BIND_ADDRESS, HOST);
        c.put(RestOptions.PORT, restPort);
        c.put(TaskManagerOptions.HOST, HOST);
        c.put(TaskManagerOptions.BIND_HOST, HOST);
        c.put(TaskManagerOptions.NUM_TASK_SLOTS, slotsPerTaskManager);
        c.put(JobManagerOptions.TOTAL_PROCESS_MEMORY, "800m");
        c.put(TaskManagerOptions.TOTAL_PROCESS_MEMORY, taskManagerMemory);
        c.put(TaskManagerOptions.CPU_CORES, (double) slotsPerTaskManager);
        c.put(TaskManagerOptions.MANAGED_MEMORY_SIZE, "64m");
        c.put(TaskManagerOptions.TASK_OFF_HEAP_MEMORY, "128m");
        c.put(TaskManagerOptions.NETWORK_MEMORY_MIN, "64m");
        c.put(TaskManagerOptions.NETWORK_MEMORY_MAX, "64m");
        c.put(CheckpointingOptions.CHECKPOINTS_DIRECTORY, this.dir.resolve("checkpoints").toUri().toString());
        // A SIGKILLed TaskManager answers no heartbeat: notice it within seconds, not the default 50 s.
        c.put(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, "1 s");
        c.put(HeartbeatManagerOptions.HEARTBEAT_TIMEOUT, "5 s");
        // Every failover is kept in the job's exception history (the default keeps 16).
        c.put(WebOptions.MAX_EXCEPTION_HISTORY_SIZE, 10000);
        c.put(CoreOptions.TMP_DIRS, Files.createDirectories(this.dir.resolve("tmp")).toString());
        StringBuilder yaml = new StringBuilder("# written by io.latteflow.examples.soak.SoakCluster\n");
        Map<String, String> flat = new LinkedHashMap<>();
        c.forEach((k, v) -> {
            flat.put(k.key(), String.valueOf(v));
            yaml.append(k.key()).append(": '").append(String.valueOf(v).replace("'", "''")).append("'\n");
        });
        Files.writeString(confDir.resolve("config.yaml"), yaml);
        config = Configuration.fromMap(flat);
        argFile = writeArgFile();
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    private Path writeArgFile() throws IOException {
        List<String> args = new ArrayList<>(List.of("--add-opens=java.base/java.nio=ALL-UNNAMED",
                "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS"));
        for (String p : List.of("org.bytedeco.javacpp.cachedir", "DJL_CACHE_DIR", "offline", "ai.djl.offline")) {
            String v = System.getProperty(p);
            if (v != null) args.add("-D" + p + "=" + v);
        }
        args.add("-cp");
        args.add(System.getProperty("java.class.path"));
        StringBuilder file = new StringBuilder();
        for (String a : args) file.append('"').append(a.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n");
        return Files.writeString(dir.resolve("jvm.args"), file);
    }

    void startJobManager() throws IOException {
        JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(config);
        start("jobmanager", List.of(JobManagerProcessUtils.generateJvmParametersStr(spec, config).split(" ")),
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                List.of(JobManagerProcessUtils.generateDynamicConfigsStr(spec).trim().split("\\s+")));
    }

    /** A TaskManager whose resource id (and REST id) is {@code name}. */
    void startTaskManager(String name) throws IOException {
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(config);
        List<String> dynamic = new ArrayList<>(List.of(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec).trim().split("\\s+")));
        dynamic.addAll(List.of("-D", TaskManagerOptions.TASK_MANAGER_RESOURCE_ID.key() + "=" + name));
        start(name, List.of(ProcessMemoryUtils.generateJvmParametersStr(spec).split(" ")),
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", dynamic);
    }

    private synchronized void start(String name, List<String> jvm, String mainClass, List<String> dynamic) throws IOException {
        if (processes.containsKey(name)) throw new IllegalStateException(name + " was started before");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "@" + argFile));
        cmd.addAll(jvm);
        cmd.addAll(List.of(mainClass, "--configDir", confDir.toString()));
        cmd.addAll(dynamic);
        Files.writeString(dir.resolve(name + ".cmd"), String.join(" ", cmd) + "\n");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile()));
        // As docs/FLINK.md asks of TaskManagers: one engine thread per task, glibc arenas capped.
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        // glibc settings of this JVM's environment (e.g. MALLOC_MMAP_THRESHOLD_) reach the cluster's processes too.
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("MALLOC_")) pb.environment().put(k, v);
        });
        processes.put(name, pb.start());
    }

    /** SIGKILL ({@link Process#destroyForcibly()} on Linux): the process gets no chance to say goodbye. */
    synchronized void kill(String name) throws InterruptedException {
        Process p = processes.get(name);
        p.destroyForcibly();
        p.waitFor();
    }

    synchronized long pid(String name) {
        return processes.get(name).pid();
    }

    synchronized boolean alive(String name) {
        Process p = processes.get(name);
        return p != null && p.isAlive();
    }

    synchronized List<String> names() {
        return new ArrayList<>(processes.keySet());
    }

    /** The REST resource as JSON, or null while the REST endpoint does not answer. */
    JsonNode get(String path) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + restPort + path))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The ids of the TaskManagers registered at the JobManager (empty while it does not answer). */
    List<String> registeredTaskManagers() throws InterruptedException {
        List<String> ids = new ArrayList<>();
        JsonNode tms = get("/taskmanagers");
        if (tms != null) for (JsonNode tm : tms.path("taskmanagers")) ids.add(tm.path("id").asText());
        return ids;
    }

    void awaitTaskManager(String name, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!registeredTaskManagers().contains(name)) {
            if (!alive(name)) throw new IllegalStateException(name + " exited; see " + dir.resolve(name + ".log"));
            if (System.nanoTime() > deadline) throw new IllegalStateException(name + " did not register within " + timeout);
            Thread.sleep(200);
        }
    }

    private synchronized void destroyAll() {
        for (Process p : processes.values()) p.destroyForcibly();
        for (Process p : processes.values()) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        destroyAll();
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        }
    }
}
