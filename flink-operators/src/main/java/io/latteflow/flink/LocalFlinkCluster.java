package io.latteflow.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A standalone Flink session cluster on 127.0.0.1 made of real JVM processes: one JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and any number of TaskManagers ({@code TaskManagerRunner}), started
 * the way flink-dist's scripts would start them, with the memory flags Flink computes from the process sizes. For the
 * process-cluster ITCases and the Flink soak ({@code bench/soak.sh flink}); not a way to run production clusters, and
 * not public API.
 *
 * <p>There is no flink-dist on Maven Central, so every process runs from this JVM's own class path (Flink, the
 * connectors, ND4J, the model and flink-operators classes: the test class path, or {@code latte.jar}), with its
 * native-cache and offline settings. The configuration is a {@code config.yaml} (the Flink 2.x file name) in a conf
 * dir passed with {@code --configDir}; each process writes its stdout and stderr to {@code <name>.log} next to it.
 *
 * <pre>{@code
 * try (LocalFlinkCluster cluster = new LocalFlinkCluster(dir, 2)) {
 *     cluster.startJobManager();
 *     cluster.startTaskManager("tm-0");
 *     cluster.awaitTaskManagers(1, Duration.ofMinutes(2));
 *     // submit to LocalFlinkCluster.HOST : cluster.restPort
 * }
 * }</pre>
 */
public final class LocalFlinkCluster implements AutoCloseable {
    public static final String HOST = "127.0.0.1";
    private static final ObjectMapper JSON = new ObjectMapper();

    public final Path dir, confDir;
    public final int rpcPort, restPort;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Map<String, Path> logs = new LinkedHashMap<>();
    private final Set<String> killed = new HashSet<>();
    private final Path argFile;
    private final Configuration config;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Thread reaper = new Thread(this::destroyAll, "local-flink-cluster-reaper");

    /**
     * The cluster of the ITCases: 1,600 MB TaskManagers, jobs restarted up to 30 times a second apart, C1-compiled
     * JVMs (fewer JIT threads: several JVMs share 2 cores with other work).
     */
    public LocalFlinkCluster(Path dir, int slotsPerTaskManager) throws IOException {
        this(dir, slotsPerTaskManager, "1600m", List.of("-XX:TieredStopAtLevel=1"), Map.of(
                RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 30,
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, "1 s"));
    }

    /**
     * A cluster in {@code dir} whose TaskManagers have {@code slotsPerTaskManager} slots and {@code taskManagerMemory}
     * of total process memory (Flink's notation: {@code "1600m"}); {@code jvmOptions} are added to every process's
     * JVM options and {@code extraConfig} to (or over) the configuration.
     */
    public LocalFlinkCluster(Path dir, int slotsPerTaskManager, String taskManagerMemory, List<String> jvmOptions,
            Map<ConfigOption<?>, Object> extraConfig) throws IOException {
        this.dir = Files.createDirectories(dir.toAbsolutePath());
        this.confDir = Files.createDirectories(this.dir.resolve("conf"));
        this.rpcPort = freePort();
        int rest;
        do rest = freePort(); while (rest == rpcPort);
        this.restPort = rest;
        this.config = writeConfig(slotsPerTaskManager, taskManagerMemory, extraConfig);
        this.argFile = writeArgFile(jvmOptions);
        // Also when the JVM exits without closing the cluster (e.g. a test interrupted by surefire): no leftover JVMs.
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    private Configuration writeConfig(int slotsPerTaskManager, String taskManagerMemory, Map<ConfigOption<?>, Object> extraConfig)
            throws IOException {
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
        // Small, for 2 loaded cores. Flink-dist's start scripts turn these totals into the JVM's -Xmx etc. and
        // into -D options for each memory component (BashJavaUtils); without the scripts, see jvmOptions().
        c.put(JobManagerOptions.TOTAL_PROCESS_MEMORY, "800m");
        c.put(TaskManagerOptions.TOTAL_PROCESS_MEMORY, taskManagerMemory);
        c.put(TaskManagerOptions.CPU_CORES, (double) slotsPerTaskManager);
        c.put(TaskManagerOptions.MANAGED_MEMORY_SIZE, "64m");
        // Headroom for ND4J's off-heap buffers next to Flink's own direct memory.
        c.put(TaskManagerOptions.TASK_OFF_HEAP_MEMORY, "128m");
        c.put(TaskManagerOptions.NETWORK_MEMORY_MIN, "64m");
        c.put(TaskManagerOptions.NETWORK_MEMORY_MAX, "64m");
        c.put(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.resolve("checkpoints").toUri().toString());
        // A SIGKILLed TaskManager answers no heartbeat: notice it within seconds, not the default 50 s.
        c.put(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, "1 s");
        c.put(HeartbeatManagerOptions.HEARTBEAT_TIMEOUT, "5 s");
        c.put(CoreOptions.TMP_DIRS, Files.createDirectories(dir.resolve("tmp")).toString());
        c.putAll(extraConfig);
        StringBuilder yaml = new StringBuilder("# written by io.latteflow.flink.LocalFlinkCluster\n");
        Map<String, String> flat = new LinkedHashMap<>();
        c.forEach((k, v) -> {
            flat.put(k.key(), String.valueOf(v));
            yaml.append(k.key()).append(": '").append(String.valueOf(v).replace("'", "''")).append("'\n");
        });
        Files.writeString(confDir.resolve("config.yaml"), yaml);
        return Configuration.fromMap(flat);
    }

    /**
     * What flink-dist's jobmanager.sh / taskmanager.sh compute with BashJavaUtils: the JVM memory flags from the
     * process size, and for a TaskManager every memory component as a -D option (TaskManagerRunner refuses to
     * start unless cpu cores, task heap, managed memory etc. are all set explicitly).
     */
    private List<String> jvmOptions(boolean taskManager) {
        if (taskManager) {
            TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(config);
            return List.of(ProcessMemoryUtils.generateJvmParametersStr(spec).split(" "));
        }
        JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(config);
        return List.of(JobManagerProcessUtils.generateJvmParametersStr(spec, config).split(" "));
    }

    private List<String> dynamicOptions(boolean taskManager) {
        String d = taskManager ? TaskExecutorProcessUtils.generateDynamicConfigsStr(TaskExecutorProcessUtils.processSpecFromConfig(config))
                : JobManagerProcessUtils.generateDynamicConfigsStr(JobManagerProcessUtils.processSpecFromConfig(config));
        return List.of(d.trim().split("\\s+"));
    }

    /** The JVM options and class path in a {@code java @file}: the test class path is too long for one argument. */
    private Path writeArgFile(List<String> jvmOptions) throws IOException {
        List<String> args = new ArrayList<>(List.of(
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                // Fewer GC threads: several JVMs share 2 cores with other work.
                "-XX:+UseSerialGC",
                "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS"));
        args.addAll(jvmOptions);
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

    public void startJobManager() throws IOException {
        start("jobmanager", false, "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint");
    }

    /** A TaskManager whose resource id (and REST id) is {@code name}. */
    public void startTaskManager(String name) throws IOException {
        start(name, true, "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                "-D", TaskManagerOptions.TASK_MANAGER_RESOURCE_ID.key() + "=" + name);
    }

    private synchronized void start(String name, boolean taskManager, String mainClass, String... extra) throws IOException {
        if (processes.containsKey(name)) throw new IllegalStateException(name + " was started before");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "@" + argFile));
        cmd.addAll(jvmOptions(taskManager));
        cmd.addAll(List.of(mainClass, "--configDir", confDir.toString()));
        cmd.addAll(dynamicOptions(taskManager));
        cmd.addAll(List.of(extra));
        Files.writeString(dir.resolve(name + ".cmd"), String.join(" ", cmd) + "\n");
        Path log = dir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // As docs/FLINK.md asks of TaskManagers: one engine thread per task, glibc arenas capped (each job attempt
        // brings new task threads; see docs/DESIGN-NOTES.md). glibc settings of this JVM's environment
        // (MALLOC_MMAP_THRESHOLD_ in a soak run) reach the cluster's processes too.
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("MALLOC_")) pb.environment().put(k, v);
        });
        logs.put(name, log);
        processes.put(name, pb.start());
    }

    /** SIGKILL: {@link Process#destroyForcibly()} sends SIGKILL on Linux, so the process gets no chance to say goodbye. */
    public synchronized void kill(String name) throws InterruptedException {
        Process p = processes.get(name);
        killed.add(name);
        p.destroyForcibly();
        p.waitFor();
    }

    /** A process that exited without being killed, or null. */
    synchronized String deadProcess() {
        for (Map.Entry<String, Process> e : processes.entrySet()) {
            if (!e.getValue().isAlive() && !killed.contains(e.getKey())) return e.getKey();
        }
        return null;
    }

    public synchronized long pid(String name) {
        return processes.get(name).pid();
    }

    public synchronized boolean alive(String name) {
        Process p = processes.get(name);
        return p != null && p.isAlive();
    }

    /** Every process started, killed or not, in the order they were started. */
    public synchronized List<String> names() {
        return new ArrayList<>(processes.keySet());
    }

    /** The REST resource as JSON, or null while the REST endpoint does not answer (yet). */
    public JsonNode get(String path) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + restPort + path))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) return null;
            return JSON.readTree(r.body());
        } catch (IOException e) {
            return null;
        }
    }

    /** Waits until the JobManager's REST API lists n registered TaskManagers. */
    public void awaitTaskManagers(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String dead = deadProcess();
            if (dead != null) throw new IllegalStateException(dead + " exited by itself");
            JsonNode tms = get("/taskmanagers");
            if (tms != null && tms.path("taskmanagers").size() >= n) return;
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not " + n + " TaskManagers after " + timeout + ": " + tms);
            }
            Thread.sleep(250);
        }
    }

    /** The ids of the TaskManagers registered at the JobManager (empty while it does not answer). */
    public List<String> registeredTaskManagers() throws InterruptedException {
        List<String> ids = new ArrayList<>();
        JsonNode tms = get("/taskmanagers");
        if (tms != null) for (JsonNode tm : tms.path("taskmanagers")) ids.add(tm.path("id").asText());
        return ids;
    }

    /** Waits until the TaskManager {@code name} has registered at the JobManager. */
    public void awaitTaskManager(String name, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!registeredTaskManagers().contains(name)) {
            if (!alive(name)) throw new IllegalStateException(name + " exited; see " + dir.resolve(name + ".log"));
            if (System.nanoTime() > deadline) throw new IllegalStateException(name + " did not register within " + timeout);
            Thread.sleep(200);
        }
    }

    /** The last lines of every process's output, for failure messages. */
    public String logTails() {
        StringBuilder s = new StringBuilder();
        Map<String, Path> copy;
        synchronized (this) {
            copy = new LinkedHashMap<>(logs);
        }
        copy.forEach((name, log) -> {
            s.append("\n===== ").append(name).append(" (").append(log).append(", ")
                    .append(alive(name) ? "running" : "exited").append(") last lines =====\n");
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> s.append(l).append('\n'));
            } catch (IOException e) {
                s.append("(unreadable: ").append(e).append(")\n");
            }
        });
        return s.toString();
    }

    /** Copies the process logs to a folder that outlives the temp dir. */
    public synchronized void copyLogsTo(Path target) {
        try {
            Files.createDirectories(target);
            for (Map.Entry<String, Path> e : logs.entrySet()) {
                if (Files.exists(e.getValue())) Files.copy(e.getValue(), target.resolve(e.getKey() + ".log"), StandardCopyOption.REPLACE_EXISTING);
                Path cmd = dir.resolve(e.getKey() + ".cmd");
                if (Files.exists(cmd)) Files.copy(cmd, target.resolve(e.getKey() + ".cmd"), StandardCopyOption.REPLACE_EXISTING);
            }
            Files.copy(confDir.resolve("config.yaml"), target.resolve("config.yaml"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
