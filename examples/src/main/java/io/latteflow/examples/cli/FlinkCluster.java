package io.latteflow.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The REST address of a running Flink session cluster, checked before a job is built for it, so a wrong address is
 * one line at once instead of the REST client's retries (20 attempts 3 s apart by default).
 *
 * <pre>{@code
 * StreamExecutionEnvironment env = FlinkCluster.parse("127.0.0.1:8081").environment(new Configuration());
 * }</pre>
 */
record FlinkCluster(String host, int port) {

    static FlinkCluster parse(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) throw new CliError("--cluster must be HOST:PORT (the JobManager's REST address), got '" + address + "'");
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new CliError("--cluster port '" + address.substring(colon + 1) + "' is not a number");
        }
        if (port < 1 || port > 65535) throw new CliError("--cluster port " + port + " is outside [1, 65535]");
        return new FlinkCluster(address.substring(0, colon), port);
    }

    /**
     * A remote environment that sends the job graph over REST and no jar files: user code must already be on the
     * cluster's class path. ND4J's native libraries can be loaded by one class loader per JVM only, so shipping them in
     * a job jar (a user-code class loader per job attempt) would break at the first restart in the same TaskManager.
     */
    StreamExecutionEnvironment environment(Configuration conf) {
        Configuration c = new Configuration(conf);
        c.set(RestOptions.RETRY_MAX_ATTEMPTS, 3);
        c.set(RestOptions.RETRY_DELAY, Duration.ofSeconds(1));
        return StreamExecutionEnvironment.createRemoteEnvironment(host, port, c);
    }

    /** The cluster's Flink version; a one-line error when nothing answers like a JobManager. */
    String requireRunning() {
        String version = flinkVersion();
        if (version == null) throw new CliError("no Flink REST API answers at " + host + ":" + port + " (is a session cluster running there?)");
        return version;
    }

    /** The cluster's Flink version from {@code GET /config}, or null when nothing answers like a JobManager. */
    private String flinkVersion() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/config"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) return null;
            return new ObjectMapper().readTree(r.body()).path("flink-version").textValue();
        } catch (IOException | IllegalArgumentException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
