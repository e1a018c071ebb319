package io.latteflow.flink;

import io.latteflow.model.Images;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.legacy.SinkFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DataStream operators on a real in-process Flink cluster (one TaskManager, two slots). */
class LatteStreamsITCase {
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
            .build());

    /** Everything the sinks of a test saw; the MiniCluster runs in this JVM. */
    static final Queue<String> SEEN = new ConcurrentLinkedQueue<>();
    static final Queue<Object> RESULTS = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void clear() {
        SEEN.clear();
        RESULTS.clear();
    }

    private static StreamExecutionEnvironment env(int parallelism) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        return env;
    }

    @Test
    void everyPromptGetsTheImageADirectModelCallDrawsWhateverItsBatch() throws Exception {
        List<ImageRequest> requests = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            ImageRequest r = ImageRequest.of("r" + i, List.of("red apple", "smiling face", "cat").get(i % 3)).withSteps(3 + i % 2);
            requests.add(i % 4 == 0 ? r.withSeed((long) i * 7).withGuidance(2.0) : r);
        }
        StreamExecutionEnvironment env = env(2);
        LatteResults<ImageResult> out = LatteStreams.generate(env.fromData(requests),
                TinyModel.options().maxBatchSize(4).maxBatchDelay(Duration.ofMillis(20)).build());
        out.results().addSink(new Collect<>());
        out.deadLetters().map(d -> "dead " + d).addSink(new Collect<>());
        env.execute("generate");

        Map<String, ImageResult> byId = new HashMap<>();
        for (Object o : RESULTS) if (o instanceof ImageResult r) byId.put(r.id, r);
        assertEquals(11, byId.size(), "results: " + RESULTS);
        assertEquals(11, RESULTS.size(), "each request answered once: " + RESULTS);
        for (ImageRequest r : requests) {
            ImageResult res = byId.get(r.id);
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(res.png));
            assertEquals(8, img.getWidth());
            assertArrayEquals(TinyModel.direct(r), res.png, "image of " + r);
            assertEquals(r.prompt, res.prompt);
            assertEquals(r.steps.intValue(), res.steps);
            assertTrue(res.batchSize >= 1 && res.batchSize <= 4, res.toString());
        }
        assertTrue(byId.values().stream().anyMatch(r -> r.batchSize > 1), "some requests shared a model call");
    }

    @Test
    void continuousBatchingDrawsEveryPromptAsADirectModelCallDoesAndSharesCalls() throws Exception {
        List<ImageRequest> requests = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            requests.add(ImageRequest.of("c" + i, List.of("red apple", "smiling face", "cat").get(i % 3)).withSteps(4 + i % 3)
                    .withGuidance(i % 2 == 0 ? 3.0 : 1.0));
        }
        StreamExecutionEnvironment env = env(1);
        LatteResults<ImageResult> out = LatteStreams.generate(env.fromData(requests),
                TinyModel.options().batching(LatteOptions.Batching.CONTINUOUS).maxBatchSize(4).build());
        out.results().addSink(new Collect<>());
        out.deadLetters().map(d -> "dead " + d).addSink(new Collect<>());
        env.execute("continuous");

        Map<String, ImageResult> byId = new HashMap<>();
        for (Object o : RESULTS) if (o instanceof ImageResult r) byId.put(r.id, r);
        assertEquals(10, RESULTS.size(), "each request answered once: " + RESULTS + SEEN);
        for (ImageRequest r : requests) {
            BufferedImage got = ImageIO.read(new ByteArrayInputStream(byId.get(r.id).png));
            BufferedImage want = ImageIO.read(new ByteArrayInputStream(TinyModel.direct(r)));
            for (int y = 0; y < want.getHeight(); y++)
                for (int x = 0; x < want.getWidth(); x++)
                    for (int shift = 0; shift <= 16; shift += 8) {
                        int a = (got.getRGB(x, y) >> shift) & 0xff, b = (want.getRGB(x, y) >> shift) & 0xff;
                        assertTrue(Math.abs(a - b) <= 1, r.id + " pixel " + x + "," + y + ": " + a + " vs " + b);
                    }
        }
        assertTrue(byId.values().stream().anyMatch(r -> r.batchSize > 1), "images in flight shared model calls");
    }

    @Test
    void aKeysExplicitStepsAndGuidanceBecomeItsDefaultsForItsLaterRequests() throws Exception {
        List<ImageRequest> requests = List.of(
                ImageRequest.of("a1", "red apple").withKey("alice").withSteps(3).withGuidance(2.0),
                ImageRequest.of("a2", "cat").withKey("alice"),
                ImageRequest.of("a3", "cat").withKey("alice").withSteps(2),
                ImageRequest.of("b1", "cat").withKey("bob"),
                ImageRequest.of("n1", "cat"));
        StreamExecutionEnvironment env = env(2);
        LatteResults<ImageResult> out = LatteStreams.generate(env.fromData(requests),
                TinyModel.options().maxBatchSize(1).maxBatchDelay(Duration.ofMillis(10)).build());
        out.results().addSink(new Collect<>());
        env.execute("key defaults");

        Map<String, ImageResult> byId = new HashMap<>();
        for (Object o : RESULTS) if (o instanceof ImageResult r) byId.put(r.id, r);
        assertEquals(5, byId.size(), "results: " + RESULTS);
        int modelSteps = TinyModel.flow().config().defaultSteps();
        double modelGuidance = TinyModel.flow().config().defaultCfg();
        assertEquals(List.of(3, 3, 2, modelSteps, modelSteps), List.of(byId.get("a1").steps, byId.get("a2").steps,
                byId.get("a3").steps, byId.get("b1").steps, byId.get("n1").steps), "alice's steps carry over; bob and unkeyed get the model's");
        assertEquals(List.of(2.0, 2.0, 2.0, modelGuidance, modelGuidance), List.of(byId.get("a1").guidance, byId.get("a2").guidance,
                byId.get("a3").guidance, byId.get("b1").guidance, byId.get("n1").guidance));
        assertArrayEquals(TinyModel.direct(ImageRequest.of("a2", "cat").withSteps(3).withGuidance(2.0)), byId.get("a2").png,
                "a2 is drawn with alice's defaults");
    }

    @Test
    void badRequestsGoToTheDeadLetterOutputWithTheirReasonAndTheRestIsServed() throws Exception {
        ImageRequest good = ImageRequest.of("good", "red apple").withSteps(2);
        List<ImageRequest> requests = List.of(
                ImageRequest.of("null-prompt", null),
                ImageRequest.of("empty", "   "),
                ImageRequest.of("huge", "apple ".repeat(200)),
                ImageRequest.of("long-tokens", "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p q r s t u v w x y z"),
                ImageRequest.of("nan", "cat").withGuidance(Double.NaN),
                ImageRequest.of("negative", "cat").withGuidance(-1.0),
                ImageRequest.of("zero-steps", "cat").withSteps(0),
                ImageRequest.of("many-steps", "cat").withSteps(100_000),
                ImageRequest.of(null, "cat"),
                good);
        StreamExecutionEnvironment env = env(1);
        LatteResults<ImageResult> out = LatteStreams.generate(env.fromData(requests), TinyModel.options().build());
        out.results().map(r -> "ok " + r.id).addSink(new Collect<>());
        out.deadLetters().map(d -> "dead " + d.id + ": " + d.reason).addSink(new Collect<>());
        env.execute("bad prompts");

        Map<String, String> reasons = deadLetters();
        assertEquals("prompt is null", reasons.get("null-prompt"));
        assertEquals("prompt is empty", reasons.get("empty"));
        assertTrue(reasons.get("huge").contains("1200 characters, more than the limit of 500"), reasons.get("huge"));
        assertTrue(reasons.get("long-tokens").contains("tokens long, more than the model's 48"), reasons.get("long-tokens"));
        assertTrue(reasons.get("nan").startsWith("guidance NaN is outside"), reasons.get("nan"));
        assertTrue(reasons.get("negative").startsWith("guidance -1.0 is outside"), reasons.get("negative"));
        assertTrue(reasons.get("zero-steps").startsWith("steps 0 is outside [1, 1000]"), reasons.get("zero-steps"));
        assertTrue(reasons.get("many-steps").startsWith("steps 100000 is outside"), reasons.get("many-steps"));
        assertEquals("id is null", reasons.get("null"));
        assertEquals(9, reasons.size(), SEEN.toString());
        assertTrue(SEEN.contains("ok good"), SEEN.toString());
    }

    @Test
    void badImagesAreRefusedBeforeDecodingAndFollowUpsReuseTheSessionImage() throws Exception {
        byte[] png = png(16, 0xff2020);
        byte[] bomb = pngHeader(100_000, 100_000);
        List<QuestionRequest> requests = List.of(
                QuestionRequest.of("first", "s1", png, "what is this?"),
                QuestionRequest.of("follow-up", "s1", null, "which category?"),
                QuestionRequest.of("no-image", "s2", null, "what is this?"),
                QuestionRequest.of("junk", "s3", "not an image at all".getBytes(), "what?"),
                QuestionRequest.of("bomb", "s4", bomb, "what?"),
                QuestionRequest.of("truncated", "s5", Arrays.copyOf(png, 20), "what?"),
                QuestionRequest.of("empty-bytes", "s6", new byte[0], "what?"),
                QuestionRequest.of("no-question", "s7", png, null),
                QuestionRequest.of("large", "s8", png(1200, 0x00ff00), "what?"));
        StreamExecutionEnvironment env = env(2);
        LatteResults<AnswerResult> out = LatteStreams.answer(env.fromData(requests),
                TinyModel.options().maxImageBytes(4000).build());
        out.results().addSink(new Collect<>());
        out.deadLetters().map(d -> "dead " + d.id + ": " + d.reason).addSink(new Collect<>());
        env.execute("questions");

        Map<String, String> reasons = deadLetters();
        assertEquals("image is null and session s2 has no earlier image", reasons.get("no-image"));
        assertEquals("image bytes are not PNG, JPEG, BMP or GIF", reasons.get("junk"));
        assertTrue(reasons.get("bomb").contains("100000x100000") && reasons.get("bomb").contains("before decoding"), reasons.get("bomb"));
        assertTrue(reasons.get("truncated").startsWith("PNG is truncated"), reasons.get("truncated"));
        assertEquals("image bytes are empty", reasons.get("empty-bytes"));
        assertEquals("question is null", reasons.get("no-question"));
        assertTrue(reasons.get("large").contains("more than latte.max-image-bytes = 4000"), reasons.get("large"));
        assertEquals(7, reasons.size(), SEEN.toString());

        Map<String, AnswerResult> answers = new HashMap<>();
        for (Object o : RESULTS) if (o instanceof AnswerResult a) answers.put(a.id, a);
        assertEquals(2, answers.size(), RESULTS.toString());
        LatteFlow flow = TinyModel.flow();
        BufferedImage img = Images.resize(ImageIO.read(new ByteArrayInputStream(png)), flow.config().imageSize());
        assertEquals(flow.answer(VqaRequest.of(img, "which category?").withMaxNewTokens(16)), answers.get("follow-up").answer,
                "the follow-up is answered about the session's image");
        assertEquals(flow.answer(VqaRequest.of(img, "what is this?")), answers.get("first").answer);
    }

    /** A Hugging Face Qwen2-VL folder as downloaded: the model module's fixture (tied, BF16, sharded). */
    static final Path HF_FOLDERS = Path.of("../model/core/src/test/resources/fixtures/qwen2vl-folders").toAbsolutePath().normalize();

    @Test
    void aHuggingFaceQwen2VlFolderAnswersAsInProcessAndDeadLettersGenerationNamingInitCouple() throws Exception {
        Path folder = HF_FOLDERS.resolve("tied-bf16-sharded");
        byte[] wide = Files.readAllBytes(HF_FOLDERS.resolve("wide.png"));           // 48x24, read at its own size
        String question = "What is in this picture?";
        LatteOptions options = LatteOptions.builder().model(folder.toString()).maxNewTokens(12).build();
        StreamExecutionEnvironment env = env(1);
        // Within the 500-character limit, but over a thousand tokens against the folder's 512 positions: only the
        // model finds it too long, so the batch falls back to one by one and only this request dead-letters (issue 16).
        LatteResults<AnswerResult> answers = LatteStreams.answer(env.fromData(
                List.of(QuestionRequest.of("ask", "s1", wide, question), QuestionRequest.of("long", "s2", wide, "語".repeat(400)))), options);
        answers.results().addSink(new Collect<>());
        answers.deadLetters().map(d -> "dead " + d.id + ": " + d.reason).addSink(new Collect<>());
        LatteResults<ImageResult> images = LatteStreams.generate(env.fromData(List.of(ImageRequest.of("draw", "a red apple"))), options);
        images.results().map(r -> "ok " + r.id).addSink(new Collect<>());
        images.deadLetters().map(d -> "dead " + d.id + ": " + d.reason).addSink(new Collect<>());
        env.execute("hf folder");

        Map<String, String> reasons = deadLetters();
        assertEquals(java.util.Set.of("draw", "long"), reasons.keySet(), SEEN.toString());
        assertTrue(reasons.get("draw").contains("init-couple") && reasons.get("draw").contains("vision-language model only"),
                reasons.get("draw"));
        assertTrue(reasons.get("long").contains("exceeds the context limit of 512 tokens"), reasons.get("long"));
        assertEquals(1, RESULTS.size(), RESULTS.toString());
        try (LatteFlow direct = LatteFlow.load(folder)) {
            assertEquals(direct.generationRefusal(), reasons.get("draw"), "refused on admission, not after a failed model call");
            String expected = direct.answer(VqaRequest.of(ImageIO.read(new ByteArrayInputStream(wide)), question).withMaxNewTokens(12));
            assertEquals(expected, ((AnswerResult) RESULTS.peek()).answer, "the answer LatteFlow gives in-process");
        }
    }

    @Test
    void subtasksShareOneModelPerJvmAndReleaseItAtTheEnd() throws Exception {
        Path dir = TinyModel.dir();
        StreamExecutionEnvironment env = env(2);
        List<ImageRequest> requests = new ArrayList<>();
        for (int i = 0; i < 8; i++) requests.add(ImageRequest.of("m" + i, "cat").withSteps(1));
        LatteResults<ImageResult> out = LatteStreams.generate(env.fromData(requests), TinyModel.options().maxBatchSize(2).build());
        String model = dir.toString();
        out.results().map(r -> "leases " + SharedModels.leases(Path.of(model), 1)).addSink(new Collect<>());
        env.execute("shared");
        assertEquals(8, SEEN.size());
        assertTrue(SEEN.stream().allMatch(s -> s.equals("leases 2") || s.equals("leases 1")), SEEN.toString());
        assertTrue(SEEN.contains("leases 2"), "both subtasks held the one model at once: " + SEEN);
        assertEquals(0, SharedModels.leases(dir, 1), "released when the job ended");
    }

    @Test
    void metricsCountRequestsBatchesFailuresModelLoadTimeAndContextCacheHits() throws Exception {
        StreamExecutionEnvironment env = env(1);
        List<ImageRequest> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) requests.add(ImageRequest.of("x" + i, "cat").withSteps(1));
        requests.add(ImageRequest.of("bad", ""));
        LatteResults<ImageResult> out = LatteStreams.generate(env.fromData(requests), TinyModel.options().maxBatchSize(3).build());
        out.results().addSink(new Collect<>());
        JobExecutionResult job = env.execute("metrics");

        Map<String, Metric> m = REPORTER.findMetrics(job.getJobID(), "latte.generate.");
        assertEquals(7, counter(m, "num_requests"));
        assertEquals(6, counter(m, "num_inferences"));
        assertEquals(1, counter(m, "num_failed_inferences"));
        assertEquals(2, counter(m, "num_batches"));
        Histogram sizes = (Histogram) find(m, "inference_request_batch_size");
        assertEquals(2, sizes.getCount());
        assertEquals(3.0, sizes.getStatistics().getMean(), 1e-9);
        assertTrue(((Histogram) find(m, "inference_batch_latency_micro_secs")).getStatistics().getMin() > 0);
        assertEquals(6, ((Histogram) find(m, "request_latency_ms")).getCount());
        assertNotNull(find(m, "queue_depth"));
        assertTrue(((Number) ((Gauge<?>) find(m, "load_model_latency_milli_secs")).getValue()).longValue() >= 0);
        // a model loaded for this job: the first batch prefills "cat" and the empty caption, the second reuses both
        assertEquals(2L, ((Gauge<?>) find(m, "context_cache_misses")).getValue());
        assertEquals(6L, ((Gauge<?>) find(m, "context_cache_hits")).getValue());
    }

    private static long counter(Map<String, Metric> metrics, String name) {
        return ((Counter) find(metrics, name)).getCount();
    }

    private static Metric find(Map<String, Metric> metrics, String name) {
        List<Metric> found = metrics.entrySet().stream().filter(e -> e.getKey().endsWith("latte.generate." + name))
                .map(Map.Entry::getValue).collect(Collectors.toList());
        assertFalse(found.isEmpty(), "metric " + name + " in " + metrics.keySet());
        return found.get(0);
    }

    private static Map<String, String> deadLetters() {
        Map<String, String> reasons = new HashMap<>();
        for (String s : SEEN) {
            if (!s.startsWith("dead ")) continue;
            int colon = s.indexOf(": ");
            reasons.put(s.substring(5, colon), s.substring(colon + 2));
        }
        return reasons;
    }

    static byte[] png(int size, int rgb) throws Exception {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) for (int x = 0; x < size; x++) img.setRGB(x, y, (x * y) % 7 == 0 ? rgb : 0x303030);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** A PNG signature and a valid IHDR chunk declaring w x h pixels, and nothing else. */
    static byte[] pngHeader(int w, int h) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(33);
        b.put(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        b.putInt(13).put(new byte[]{'I', 'H', 'D', 'R'}).putInt(w).putInt(h).put(new byte[]{8, 2, 0, 0, 0});
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b.array(), 12, 17);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** Records what reaches it in this JVM's static queues. */
    static final class Collect<T> implements SinkFunction<T> {
        @Override
        public void invoke(T value, Context context) {
            if (value instanceof String s) SEEN.add(s);
            else RESULTS.add(value);
        }
    }
}
