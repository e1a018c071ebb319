package io.latteflow.arrow;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.Images;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

import static io.latteflow.arrow.ArrowTables.*;
import static org.junit.jupiter.api.Assertions.*;

/** Scoring with the tiny model: outputs, bad rows, bad schemas, damaged files and resume. */
class ArrowScorerTest {
    static LatteFlow flow;

    @TempDir
    Path dir;

    @BeforeAll
    static void model() {
        flow = LatteFlow.create(LatteConfig.tiny(), 7);
    }

    @AfterAll
    static void close() {
        flow.close();
    }

    static final Schema PROMPTS = new Schema(List.of(int32("id"), utf8("prompt"), int64("seed"), int32("steps"), float32("guidance")));

    static Map<String, Object> prompt(int i) {
        Map<String, Object> m = new HashMap<>();
        m.put("id", i);
        m.put("prompt", List.of("red apple", "smiling face", "blue car", "a cat").get(i % 4));
        m.put("seed", 100L + i);
        if (i % 3 == 0) m.put("steps", 2 + i % 4);
        if (i % 2 == 0) m.put("guidance", 1.5f);
        return m;
    }

    @Test
    void generateKeepsInputColumnsAndDrawsTheSameImagesAsTheJavaApi() throws IOException {
        Path in = dir.resolve("in.arrow"), out = dir.resolve("out.arrow");
        write(in, false, PROMPTS, 7, 3, ArrowScorerTest::prompt);
        ScoreResult r = ArrowScorer.builder(flow).batchSize(4).modelName("tiny-test").build().score(in, out);
        assertEquals(7, r.rows());
        assertEquals(0, r.failedRows());
        assertEquals(2, r.batches());
        Table t = read(out);
        assertEquals(List.of("id", "prompt", "seed", "steps", "guidance", "image", "error", "latency_ms"),
                t.schema().getFields().stream().map(f -> f.getName()).toList());
        Map<String, String> meta = t.schema().getCustomMetadata();
        assertEquals("generate", meta.get("latte.mode"));
        assertEquals("tiny-test", meta.get("latte.model"));
        assertEquals("4", meta.get("latte.batch_size"));
        assertTrue(meta.get("latte.config").contains("\"hiddenSize\":32"), meta.get("latte.config"));
        assertEquals(7, t.rows().size());
        for (int i = 0; i < 7; i++) {
            Map<String, Object> row = t.rows().get(i), want = prompt(i);
            assertEquals(i, row.get("id"));
            assertEquals(want.get("prompt"), row.get("prompt"));
            assertNull(row.get("error"));
            assertTrue((Double) row.get("latency_ms") > 0);
            @SuppressWarnings("unchecked") Map<String, Object> image = (Map<String, Object>) row.get("image");
            byte[] png = (byte[]) image.get("bytes");
            assertEquals(String.format("row-%08d.png", i), image.get("path"));
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            assertEquals(flow.config().genImageSize(), img.getWidth());
            GenerationRequest req = GenerationRequest.of((String) want.get("prompt")).withSeed((Long) want.get("seed"));
            if (want.get("steps") != null) req = req.withSteps((Integer) want.get("steps"));
            if (want.get("guidance") != null) req = req.withGuidance((Float) want.get("guidance"));
            assertArrayEquals(flow.generate(req).png(), png, "row " + i + " differs from a direct generate call");
        }
    }

    @Test
    void nullAndBadRowsGetTheirErrorAndTheRestIsScored() throws IOException {
        Path in = dir.resolve("in.arrows"), out = dir.resolve("out.arrow");
        write(in, true, PROMPTS, 6, 6, i -> {
            Map<String, Object> m = prompt(i);
            if (i == 1) m.remove("prompt");
            if (i == 3) m.put("steps", 0);
            if (i == 4) m.put("guidance", Float.NaN);
            return m;
        });
        ScoreResult r = ArrowScorer.builder(flow).batchSize(4).build().score(in, out);
        assertEquals(3, r.failedRows());
        Table t = read(out);
        assertEquals("prompt is null", t.rows().get(1).get("error"));
        assertTrue(((String) t.rows().get(3).get("error")).startsWith("steps 0 is outside [1, 1000]"));
        assertTrue(((String) t.rows().get(4).get("error")).startsWith("guidance NaN is outside [0, 50.0]"));
        for (int i : new int[]{1, 3, 4}) {
            assertNull(t.rows().get(i).get("image"));
            assertNull(t.rows().get(i).get("latency_ms"));
        }
        for (int i : new int[]{0, 2, 5}) {
            assertNull(t.rows().get(i).get("error"), "row " + i);
            assertNotNull(t.rows().get(i).get("image"), "row " + i);
        }
    }

    static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** A valid PNG header (signature and IHDR with a correct CRC) declaring w x h, followed by a tiny IDAT. */
    static byte[] bomb(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12 + 12);
        b.put(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        b.putInt(13).put("IHDR".getBytes()).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(b.array(), 12, 17);
        b.putInt((int) crc.getValue());
        b.putInt(0).put("IDAT".getBytes()).putInt(0);
        b.putInt(0).put("IEND".getBytes()).putInt(0);
        return b.array();
    }

    @Test
    void vqaAnswersLikeTheJavaApiAndRejectsBadImagesPerRow() throws IOException {
        int size = flow.config().imageSize();
        BufferedImage small = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        small.setRGB(3, 4, 0xff0000);
        BufferedImage big = new BufferedImage(size * 3, size * 2, BufferedImage.TYPE_INT_ARGB);
        big.setRGB(10, 10, 0x8000ff00);
        byte[] good = png(small), large = png(big);
        byte[] truncated = Arrays.copyOf(good, good.length / 2);
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        ImageIO.write(small, "jpeg", jpeg);
        Object[] images = {good, large, null, "not an image".getBytes(), bomb(100_000, 100_000), truncated, good, jpeg.toByteArray()};
        String[] questions = {"what is this?", "what color?", "what?", "what?", "what?", "what?", null, "jpeg?"};
        for (boolean struct : new boolean[]{true, false}) {
            Path in = dir.resolve("vqa-" + struct + ".arrow"), out = dir.resolve("vqa-out-" + struct + ".arrow");
            Schema schema = new Schema(List.of(struct ? hfImage("image") : Field_binary("image"), utf8("question")));
            write(in, false, schema, images.length, 3, i -> {
                Map<String, Object> m = new HashMap<>();
                m.put("image", images[i]);
                m.put("question", questions[i]);
                return m;
            });
            ScoreResult r = ArrowScorer.builder(flow).mode(ScoreMode.ANSWER).batchSize(4).maxNewTokens(5).build().score(in, out);
            assertEquals(5, r.failedRows());
            Table t = read(out);
            assertEquals("answer", t.schema().getCustomMetadata().get("latte.mode"));
            List<String> errors = new ArrayList<>();
            for (Map<String, Object> row : t.rows()) errors.add((String) row.get("error"));
            assertNull(errors.get(0));
            assertNull(errors.get(1));
            assertNull(errors.get(7));
            assertEquals("image is null", errors.get(2));
            assertEquals("image bytes are not PNG, JPEG, BMP or GIF", errors.get(3));
            assertTrue(errors.get(4).contains("100000x100000") && errors.get(4).contains("rejected before decoding"), errors.get(4));
            assertTrue(errors.get(5).startsWith("image cannot be decoded"), errors.get(5));
            assertEquals("question is null", errors.get(6));
            String direct = flow.answer(VqaRequest.of(small, "what is this?").withMaxNewTokens(5));
            assertEquals(direct, t.rows().get(0).get("answer"));
            String resized = flow.answer(VqaRequest.of(Images.resize(big, size), "what color?").withMaxNewTokens(5));
            assertEquals(resized, t.rows().get(1).get("answer"));
        }
    }

    /** Issue 19: questions met the core's limits on every front door but this one (a bad one failed in the model). */
    @Test
    void blankOrOverLongQuestionsGetTheCoresWordsPerRowAndAnswerLengthIsCapped() throws IOException {
        int size = flow.config().imageSize();
        byte[] good = png(new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB));
        String[] questions = {"what is this?", "   ", "why ".repeat(200), "what color?"};
        Path in = dir.resolve("q.arrow"), out = dir.resolve("q-out.arrow");
        write(in, false, new Schema(List.of(Field_binary("image"), utf8("question"))), questions.length, 4, i -> {
            Map<String, Object> m = new HashMap<>();
            m.put("image", good);
            m.put("question", questions[i]);
            return m;
        });
        ScoreResult r = ArrowScorer.builder(flow).mode(ScoreMode.ANSWER).batchSize(4).maxNewTokens(3).build().score(in, out);
        assertEquals(2, r.failedRows());
        List<Map<String, Object>> rows = read(out).rows();
        assertNull(rows.get(0).get("error"));
        assertEquals("question is empty", rows.get(1).get("error"));
        assertEquals("question has 800 characters, more than the limit of 500", rows.get(2).get("error"));
        assertNull(rows.get(3).get("error"));
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> ArrowScorer.builder(flow).mode(ScoreMode.ANSWER).maxNewTokens(100_000));
        assertEquals("maxNewTokens must be in [1, 256], got 100000", tooLong.getMessage());
    }

    @Test
    void vqaWithAHuggingFaceQwen2VlFolderAnswersImagesOfDifferentSizesInOneBatchAsEachAlone() throws Exception {
        // The fixtures live with latteflow-model (model/core); this module's tests run in model/arrow.
        Path folders = Path.of("../core/src/test/resources/fixtures/qwen2vl-folders").toAbsolutePath().normalize();
        String question = "What is in this picture?";
        String[] files = {"wide.png", "odd.png", "big.png"};                  // 48x24, 45x30, 100x80
        Path in = dir.resolve("hf-vqa.arrow"), out = dir.resolve("hf-vqa-out.arrow");
        write(in, false, new Schema(List.of(hfImage("image"), utf8("question"))), files.length, files.length, i -> {
            Map<String, Object> m = new HashMap<>();
            try {
                m.put("image", Files.readAllBytes(folders.resolve(files[i])));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            m.put("question", question);
            return m;
        });
        try (LatteFlow hf = LatteFlow.load(folders.resolve("tied-bf16-sharded"))) {
            ScoreResult r = ArrowScorer.builder(hf).mode(ScoreMode.ANSWER).batchSize(4).maxNewTokens(12).build().score(in, out);
            assertEquals(3, r.rows());
            assertEquals(0, r.failedRows());
            assertEquals(1, r.batches(), "the three sizes share one model call");
            Table t = read(out);
            List<String> alone = new ArrayList<>();
            for (int i = 0; i < files.length; i++) {
                Map<String, Object> row = t.rows().get(i);
                assertNull(row.get("error"), files[i]);
                BufferedImage img = ImageIO.read(folders.resolve(files[i]).toFile());
                alone.add(hf.answer(VqaRequest.of(img, question).withMaxNewTokens(12)));
                assertEquals(alone.get(i), row.get("answer"), files[i] + " differs from LatteFlow.answer on it alone");
            }
            assertEquals(3, alone.stream().distinct().count(), "the images give different answers: " + alone);
        }
    }

    static org.apache.arrow.vector.types.pojo.Field Field_binary(String name) {
        return org.apache.arrow.vector.types.pojo.Field.nullable(name, org.apache.arrow.vector.types.pojo.ArrowType.Binary.INSTANCE);
    }

    void assertSchemaError(ScoreMode mode, Schema schema, String... expected) throws IOException {
        Path in = dir.resolve("bad.arrow"), out = dir.resolve("bad-out.arrow");
        write(in, false, schema, 2, 2, i -> Map.of());
        ArrowInputException e = assertThrows(ArrowInputException.class,
                () -> ArrowScorer.builder(flow).mode(mode).build().score(in, out));
        for (String s : expected) assertTrue(e.getMessage().contains(s), e.getMessage());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(ArrowScorer.partFile(out)));
    }

    @Test
    void missingOrWronglyTypedColumnsNameTheExpectedSchema() throws IOException {
        String gen = ArrowScorer.expectedSchema(ScoreMode.GENERATE), vqa = ArrowScorer.expectedSchema(ScoreMode.ANSWER);
        assertSchemaError(ScoreMode.GENERATE, new Schema(List.of(utf8("caption"))),
                "Input has no column 'prompt' (utf8)", gen, "the input has: caption: utf8");
        assertSchemaError(ScoreMode.GENERATE, new Schema(List.of(int64("prompt"))), "Column 'prompt' is int64, expected utf8", gen);
        assertSchemaError(ScoreMode.GENERATE, new Schema(List.of(utf8("prompt"), utf8("seed"))), "Column 'seed' is utf8, expected int64");
        assertSchemaError(ScoreMode.GENERATE, new Schema(List.of(utf8("prompt"), utf8("error"))), "already has a column 'error'");
        assertSchemaError(ScoreMode.ANSWER, new Schema(List.of(hfImage("image"))), "Input has no column 'question'", vqa);
        assertSchemaError(ScoreMode.ANSWER, new Schema(List.of(int32("image"), utf8("question"))),
                "Column 'image' is int32, expected struct<bytes: binary, path: utf8> or binary", vqa);
    }

    @Test
    void damagedOrNonArrowFilesAreOneClearError() throws IOException {
        Path out = dir.resolve("out.arrow");
        ArrowScorer scorer = ArrowScorer.builder(flow).build();
        Path garbage = dir.resolve("garbage.arrow");
        Files.write(garbage, "prompt,seed\nred apple,1\n".getBytes());
        assertTrue(assertThrows(ArrowInputException.class, () -> scorer.score(garbage, out)).getMessage()
                .contains("is not an Arrow IPC file or stream"));
        Path empty = dir.resolve("empty.arrow");
        Files.write(empty, new byte[0]);
        assertTrue(assertThrows(ArrowInputException.class, () -> scorer.score(empty, out)).getMessage().contains("is empty"));
        assertTrue(assertThrows(ArrowInputException.class, () -> scorer.score(dir.resolve("nope.arrow"), out)).getMessage()
                .contains("does not exist"));
        Path good = dir.resolve("good.arrow");
        write(good, false, PROMPTS, 6, 2, ArrowScorerTest::prompt);
        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.arrow");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 40));
        assertTrue(assertThrows(ArrowInputException.class, () -> scorer.score(cut, out)).getMessage()
                .contains("footer or schema is damaged"));
        assertFalse(Files.exists(out));
    }

    @Test
    void aStreamDamagedHalfWayKeepsTheRowsAlreadyScored() throws IOException {
        Path in = dir.resolve("in.arrows"), out = dir.resolve("out.arrow");
        write(in, true, PROMPTS, 12, 2, ArrowScorerTest::prompt);
        byte[] bytes = Files.readAllBytes(in);
        Files.write(in, Arrays.copyOf(bytes, bytes.length * 3 / 4));
        ArrowInputException e = assertThrows(ArrowInputException.class,
                () -> ArrowScorer.builder(flow).batchSize(2).build().score(in, out));
        assertTrue(e.getMessage().contains("is damaged at record batch"), e.getMessage());
        assertFalse(Files.exists(out));
        assertTrue(ArrowScorer.canResume(out), "the finished batches stay resumable");
        assertTrue(Files.size(ArrowScorer.partFile(out)) > 0);
    }

    /** A listener that stops the run (like a kill) after {@code n} batches reached the disk. */
    static ScoreListener crashAfter(int n) {
        return new ScoreListener() {
            int batches;

            @Override
            public void batchWritten(long rowsDone, int rows, int failed, double millis) {
                if (++batches == n) throw new IllegalStateException("simulated crash");
            }
        };
    }

    @Test
    void resumeContinuesAfterTheLastFinishedBatchAndMatchesAnUnbrokenRun() throws IOException {
        Path in = dir.resolve("in.arrow"), whole = dir.resolve("whole.arrow"), out = dir.resolve("out.arrow");
        write(in, false, PROMPTS, 11, 4, ArrowScorerTest::prompt);
        ArrowScorer.builder(flow).batchSize(3).tensor(TensorOutput.LATENTS).build().score(in, whole);
        assertThrows(IllegalStateException.class,
                () -> ArrowScorer.builder(flow).batchSize(3).tensor(TensorOutput.LATENTS).listener(crashAfter(2)).build().score(in, out));
        assertFalse(Files.exists(out));
        assertTrue(ArrowScorer.canResume(out));
        // A torn write of a third batch after the last recorded one must be cut off, not kept.
        Files.write(ArrowScorer.partFile(out), new byte[]{1, 2, 3, 4, 5, 6, 7}, java.nio.file.StandardOpenOption.APPEND);

        ArrowInputException other = assertThrows(ArrowInputException.class,
                () -> ArrowScorer.builder(flow).batchSize(4).tensor(TensorOutput.LATENTS).build().score(in, out, true));
        assertTrue(other.getMessage().contains("latte.batch_size 3, now latte.batch_size 4"), other.getMessage());

        long[] seen = new long[2];
        ScoreResult r = ArrowScorer.builder(flow).batchSize(3).tensor(TensorOutput.LATENTS).listener(new ScoreListener() {
            @Override
            public void started(long totalRows, long resumedRows) {
                seen[0] = totalRows;
                seen[1] = resumedRows;
            }
        }).build().score(in, out, true);
        assertEquals(11, seen[0]);
        assertEquals(6, seen[1]);
        assertEquals(6, r.resumedRows());
        assertEquals(5, r.scoredRows());
        assertEquals(2, r.batches());
        assertFalse(ArrowScorer.canResume(out));
        assertFalse(Files.exists(ArrowScorer.partFile(out)));

        Table a = read(whole), b = read(out);
        assertEquals(a.schema(), b.schema());
        assertEquals(11, b.rows().size());
        for (int i = 0; i < 11; i++) {
            Map<String, Object> x = a.rows().get(i), y = b.rows().get(i);
            assertEquals(x.get("prompt"), y.get("prompt"));
            @SuppressWarnings("unchecked") Map<String, Object> xi = (Map<String, Object>) x.get("image"), yi = (Map<String, Object>) y.get("image");
            assertArrayEquals((byte[]) xi.get("bytes"), (byte[]) yi.get("bytes"), "row " + i);
            assertArrayEquals((float[]) x.get("latents"), (float[]) y.get("latents"), "row " + i);
        }
        ScoreResult again = ArrowScorer.builder(flow).batchSize(3).tensor(TensorOutput.LATENTS).build().score(in, out, true);
        assertEquals(0, again.scoredRows(), "a finished output is not scored again");
        assertEquals(11, again.rows());
    }

    @Test
    void latentTensorsAreTheSamplersOutput() throws IOException {
        Path in = dir.resolve("in.arrow"), out = dir.resolve("out.arrow");
        write(in, false, PROMPTS, 3, 3, ArrowScorerTest::prompt);
        ArrowScorer.builder(flow).batchSize(3).tensor(TensorOutput.LATENTS).build().score(in, out);
        Table t = read(out);
        org.apache.arrow.vector.types.pojo.Field f = t.schema().findField("latents");
        assertInstanceOf(FixedShapeTensorType.class, f.getType());
        LatteConfig c = flow.config();
        assertArrayEquals(new long[]{c.latentTokens(), c.latentDim()}, ((FixedShapeTensorType) f.getType()).shape());
        GeneratedImage direct = flow.generate(GenerationRequest.of("red apple").withSeed(100).withSteps(2).withGuidance(1.5));
        float[] want = direct.latents().dup('c').data().asFloat();
        assertArrayEquals(want, (float[]) t.rows().get(0).get("latents"));
    }
}
