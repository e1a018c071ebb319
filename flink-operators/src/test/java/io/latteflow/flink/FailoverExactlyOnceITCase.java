package io.latteflow.flink;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A failure injected mid-stream, then recovery from the last checkpoint: the FileSink output has each request once. */
class FailoverExactlyOnceITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static final int REQUESTS = 120;
    static final List<String> CAPTIONS = List.of("red apple", "smiling face", "cat", "green tree");
    static final AtomicBoolean CHECKPOINTED = new AtomicBoolean(), FAILED = new AtomicBoolean();
    static final AtomicInteger SEEN = new AtomicInteger();

    @TempDir
    Path out;

    @ParameterizedTest
    @EnumSource(LatteOptions.Batching.class)
    void aFailureMidStreamNeitherLosesNorDuplicatesAnyImageInTheFileSinkOutput(LatteOptions.Batching batching) throws Exception {
        CHECKPOINTED.set(false);
        FAILED.set(false);
        SEEN.set(0);
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(100);

        String model = TinyModel.dir().toString();
        var requests = env.fromSequence(0, REQUESTS - 1).map(i -> {
            // A stream, not one burst: start when both model subtasks are open, then one request per 10 ms per
            // subtask, so checkpoints fall in the middle of the stream.
            while (SharedModels.leases(Path.of(model), 1) < 2) Thread.sleep(10);
            Thread.sleep(10);
            return ImageRequest.of("req-" + i, CAPTIONS.get((int) (i % CAPTIONS.size()))).withSteps(2);
        });
        LatteResults<ImageResult> images = LatteStreams.generate(requests,
                TinyModel.options().batching(batching).maxBatchSize(4).maxBatchDelay(Duration.ofMillis(30)).build());
        images.results()
                .map(new FailOnceAfterACheckpoint(REQUESTS / 4))
                .map(r -> r.id + "\t" + sha256(r.png))
                .sinkTo(FileSink.forRowFormat(new org.apache.flink.core.fs.Path(out.toUri()), new SimpleStringEncoder<String>())
                        .withRollingPolicy(OnCheckpointRollingPolicy.build()).build());
        env.execute("failover");

        assertTrue(FAILED.get(), "the injected failure happened");
        List<String> lines = committedLines(out);
        Map<String, Long> counts = lines.stream().collect(Collectors.groupingBy(l -> l.split("\t")[0], Collectors.counting()));
        assertEquals(REQUESTS, counts.size(), "every request is in the output");
        assertEquals(REQUESTS, lines.size(), "no request is in it twice: " + counts.entrySet().stream().filter(e -> e.getValue() > 1).toList());
        Map<String, String> hashes = new HashMap<>();
        for (String l : lines) hashes.put(l.split("\t")[0], l.split("\t")[1]);
        for (int i = 0; i < REQUESTS; i += 17) {
            ImageRequest r = ImageRequest.of("req-" + i, CAPTIONS.get(i % CAPTIONS.size())).withSteps(2);
            if (batching == LatteOptions.Batching.STATIC) {
                assertEquals(sha256(TinyModel.direct(r)), hashes.get(r.id), "image of " + r.id + " after recovery");
            }
        }
    }

    /** Finished part files only: in-progress and pending files start with a dot. */
    static List<String> committedLines(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .flatMap(p -> {
                        try {
                            return Files.readAllLines(p).stream();
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).filter(l -> !l.isBlank()).collect(Collectors.toList());
        }
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Throws once, at the n-th result seen after some checkpoint completed. */
    static final class FailOnceAfterACheckpoint extends RichMapFunction<ImageResult, ImageResult> implements CheckpointListener {
        private final int after;

        FailOnceAfterACheckpoint(int after) {
            this.after = after;
        }

        @Override
        public ImageResult map(ImageResult r) {
            if (SEEN.incrementAndGet() >= after && CHECKPOINTED.get() && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("injected failure at result " + SEEN.get());
            }
            return r;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            CHECKPOINTED.set(true);
        }
    }
}
