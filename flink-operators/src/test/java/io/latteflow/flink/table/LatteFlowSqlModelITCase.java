package io.latteflow.flink.table;

import io.latteflow.model.GenerationRequest;
import io.latteflow.model.Images;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.apache.flink.table.api.Expressions.row;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code CREATE MODEL ... WITH ('provider' = 'latte-flow')} and {@code ML_PREDICT} in a real Flink table
 * environment (its own in-process MiniCluster) with a tiny, untrained checkpoint.
 */
class LatteFlowSqlModelITCase {
    private static final int STEPS = 2;
    private static final long SEED = 7;

    @TempDir
    static Path tmp;
    static Path checkpoint;
    static LatteFlow direct;

    @BeforeAll
    static void saveTinyModel() throws IOException {
        checkpoint = tmp.resolve("tiny-model");
        // Seed 1: this untrained model answers with several words (seed 42 stops at once), so the answer's
        // length shows that 'max-new-tokens' reaches the model.
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 1)) {
            flow.save(checkpoint);
        }
        direct = LatteFlow.load(checkpoint);
    }

    @AfterAll
    static void closeModel() {
        direct.close();
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void generateReturnsPngsOfTheModelSizeEqualToDirectGenerateWithTheSameSeed(boolean async) throws Exception {
        TableEnvironment env = tableEnv();
        env.executeSql("CREATE TEMPORARY VIEW prompts AS SELECT * FROM (VALUES ('red apple'), ('blue sky'), ('a cat'))"
                + " AS t(prompt)");
        env.executeSql(generateModel("painter", "image BYTES"));

        List<Row> rows = collect(env, "SELECT prompt, image FROM ML_PREDICT(TABLE prompts, MODEL painter,"
                + " DESCRIPTOR(prompt), MAP['async', '" + async + "'])");

        assertEquals(3, rows.size());
        int size = direct.config().genImageSize();
        for (Row r : rows) {
            String prompt = (String) r.getField("prompt");
            byte[] png = (byte[]) r.getField("image");
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(img, "not a PNG for " + prompt);
            assertEquals(size, img.getWidth());
            assertEquals(size, img.getHeight());
            byte[] expected = direct.generate(GenerationRequest.of(prompt).withSteps(STEPS).withSeed(SEED)).png();
            assertArrayEquals(expected, png, "image for '" + prompt + "' differs from LatteFlow.generate");
        }
    }

    @Test
    void generateRunsInStreamingModeToo() throws Exception {
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.newInstance().inStreamingMode()
                .withConfiguration(oneSlot()).build());
        env.executeSql("CREATE TEMPORARY VIEW prompts AS SELECT * FROM (VALUES ('red apple'), ('a cat')) AS t(prompt)");
        env.executeSql(generateModel("painter", "image BYTES"));

        List<Row> rows = collect(env, "SELECT prompt, image FROM ML_PREDICT(TABLE prompts, MODEL painter,"
                + " DESCRIPTOR(prompt))");

        assertEquals(2, rows.size());
        for (Row r : rows) {
            byte[] expected = direct.generate(GenerationRequest.of((String) r.getField("prompt")).withSteps(STEPS)
                    .withSeed(SEED)).png();
            assertArrayEquals(expected, (byte[]) r.getField("image"));
        }
    }

    @Test
    void vqaAnswersEveryRowLikeDirectAnswer() throws Exception {
        TableEnvironment env = tableEnv();
        byte[] a = png(1, 20), b = png(2, 33);
        photos(env, row(1, a, "what is this?"), row(2, b, "what color is it?"));
        env.executeSql(vqaModel("reader", "answer STRING"));

        List<Row> rows = collect(env, "SELECT id, answer FROM ML_PREDICT(TABLE photos, MODEL reader,"
                + " DESCRIPTOR(image, question))");

        assertEquals(2, rows.size());
        for (Row r : rows) {
            int id = (Integer) r.getField("id");
            String answer = (String) r.getField("answer");
            assertNotNull(answer, "row " + id);
            assertFalse(answer.isBlank(), "row " + id + " has an empty answer");
            byte[] bytes = id == 1 ? a : b;
            String question = id == 1 ? "what is this?" : "what color is it?";
            BufferedImage img = Images.resize(ImageIO.read(new ByteArrayInputStream(bytes)), direct.config().imageSize());
            assertEquals(direct.answer(VqaRequest.of(img, question).withMaxNewTokens(4)), answer, "row " + id);
        }
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void badVqaRowsGetANullAnswerAndAnErrorWhileGoodRowsAreAnswered(boolean async) throws Exception {
        TableEnvironment env = tableEnv();
        photos(env, row(1, png(3, 16), "what is this?"), row(2, "not an image".getBytes(), "what is this?"),
                row(3, null, "what is this?"), row(4, png(4, 16), null), row(5, bombPng(), "what is this?"));
        env.executeSql(vqaModel("reader", "answer STRING, error STRING"));

        List<Row> rows = collect(env, "SELECT id, answer, error FROM ML_PREDICT(TABLE photos, MODEL reader,"
                + " DESCRIPTOR(image, question), MAP['async', '" + async + "'])");

        assertEquals(5, rows.size());
        for (Row r : rows) {
            int id = (Integer) r.getField("id");
            String answer = (String) r.getField("answer"), error = (String) r.getField("error");
            switch (id) {
                case 1 -> {
                    assertNotNull(answer);
                    assertNull(error);
                }
                case 2 -> assertFailed(answer, error, "not PNG, JPEG, BMP or GIF");
                case 3 -> assertFailed(answer, error, "image is null");
                case 4 -> assertFailed(answer, error, "question is null");
                case 5 -> assertFailed(answer, error, "decompression bomb");
                default -> throw new AssertionError("unexpected row " + r);
            }
        }
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void promptTheModelRejectsFailsOnlyItsOwnRowEvenInsideABatch(boolean async) throws Exception {
        TableEnvironment env = tableEnv();
        String tooLong = "red apple ".repeat(40).trim();
        env.executeSql("CREATE TEMPORARY VIEW prompts AS SELECT * FROM (VALUES ('red apple'), ('" + tooLong + "'),"
                + " ('a cat')) AS t(prompt)");
        // A long batch timeout so that async sends all three rows in one call, which the long prompt fails.
        env.executeSql(generateModel("painter", "image BYTES, error STRING", ", 'batch-timeout' = '1 s'"));

        List<Row> rows = collect(env, "SELECT prompt, image, error FROM ML_PREDICT(TABLE prompts, MODEL painter,"
                + " DESCRIPTOR(prompt), MAP['async', '" + async + "'])");

        assertEquals(3, rows.size());
        for (Row r : rows) {
            String prompt = (String) r.getField("prompt");
            if (prompt.equals(tooLong)) {
                assertFailed(r.getField("image"), (String) r.getField("error"), "exceeds the context limit");
            } else {
                assertNull(r.getField("error"), prompt);
                byte[] expected = direct.generate(GenerationRequest.of(prompt).withSteps(STEPS).withSeed(SEED)).png();
                assertArrayEquals(expected, (byte[]) r.getField("image"), prompt);
            }
        }
    }

    @Test
    void nullPromptGivesANullImageAndNoErrorColumnIsNeeded() throws Exception {
        TableEnvironment env = tableEnv();
        env.executeSql("CREATE TEMPORARY VIEW prompts AS SELECT * FROM (VALUES ('red apple'), (CAST(NULL AS STRING)))"
                + " AS t(prompt)");
        env.executeSql(generateModel("painter", "image BYTES"));

        List<Row> rows = collect(env, "SELECT prompt, image FROM ML_PREDICT(TABLE prompts, MODEL painter,"
                + " DESCRIPTOR(prompt))");

        assertEquals(2, rows.size());
        for (Row r : rows) {
            if (r.getField("prompt") == null) assertNull(r.getField("image"));
            else assertNotNull(ImageIO.read(new ByteArrayInputStream((byte[]) r.getField("image"))));
        }
    }

    @Test
    void nullPromptIsExplainedInTheErrorColumn() throws Exception {
        TableEnvironment env = tableEnv();
        env.executeSql("CREATE TEMPORARY VIEW prompts AS SELECT * FROM (VALUES (CAST(NULL AS STRING))) AS t(prompt)");
        env.executeSql(generateModel("painter", "image BYTES, error STRING"));

        List<Row> rows = collect(env, "SELECT image, error FROM ML_PREDICT(TABLE prompts, MODEL painter,"
                + " DESCRIPTOR(prompt))");

        assertEquals(1, rows.size());
        assertFailed(rows.get(0).getField("image"), (String) rows.get(0).getField("error"), "prompt is null");
    }

    @Test
    void aHuggingFaceQwen2VlFolderAsCheckpointAnswersAsInProcessAndRefusesGenerationInTheErrorColumn() throws Exception {
        Path folders = Path.of("../model/core/src/test/resources/fixtures/qwen2vl-folders").toAbsolutePath().normalize();
        Path hf = folders.resolve("tied-bf16-sharded");
        byte[] wide = Files.readAllBytes(folders.resolve("wide.png"));            // 48x24, read at its own size
        String question = "What is in this picture?";
        TableEnvironment env = tableEnv();
        photos(env, row(1, wide, question));
        env.executeSql("CREATE TEMPORARY MODEL reader INPUT (image BYTES, question STRING) OUTPUT (answer STRING, error STRING)"
                + " WITH ('provider' = 'latte-flow', 'model' = '" + hf + "', 'task' = 'vqa', 'max-new-tokens' = '12')");
        env.executeSql("CREATE TEMPORARY VIEW prompts AS SELECT * FROM (VALUES ('red apple')) AS t(prompt)");
        env.executeSql("CREATE TEMPORARY MODEL painter INPUT (prompt STRING) OUTPUT (image BYTES, error STRING)"
                + " WITH ('provider' = 'latte-flow', 'model' = '" + hf + "', 'task' = 'generate')");

        List<Row> answers = collect(env, "SELECT id, answer, error FROM ML_PREDICT(TABLE photos, MODEL reader,"
                + " DESCRIPTOR(image, question))");
        List<Row> drawn = collect(env, "SELECT prompt, image, error FROM ML_PREDICT(TABLE prompts, MODEL painter,"
                + " DESCRIPTOR(prompt))");

        assertEquals(1, answers.size());
        assertNull(answers.get(0).getField("error"));
        try (LatteFlow folder = LatteFlow.load(hf)) {
            String expected = folder.answer(VqaRequest.of(ImageIO.read(new ByteArrayInputStream(wide)), question).withMaxNewTokens(12));
            assertEquals(expected, answers.get(0).getField("answer"), "the answer LatteFlow gives in-process");
        }
        assertEquals(1, drawn.size());
        assertFailed(drawn.get(0).getField("image"), (String) drawn.get(0).getField("error"), "init-couple");
    }

    @Test
    void missingModelOptionFailsThePlanNamingTheOption() {
        TableEnvironment env = tableEnv();
        env.executeSql("CREATE TEMPORARY VIEW prompts AS SELECT * FROM (VALUES ('red apple')) AS t(prompt)");
        env.executeSql("CREATE TEMPORARY MODEL painter INPUT (prompt STRING) OUTPUT (image BYTES)"
                + " WITH ('provider' = 'latte-flow')");

        Exception e = assertThrows(Exception.class, () -> collect(env,
                "SELECT * FROM ML_PREDICT(TABLE prompts, MODEL painter, DESCRIPTOR(prompt))"));

        assertCauseSays(e, "Missing required options are:\n\nmodel");
    }

    @Test
    void nonexistentCheckpointDirectoryFailsTheJobNamingThePath() {
        TableEnvironment env = tableEnv();
        Path missing = tmp.resolve("no-such-model");
        env.executeSql("CREATE TEMPORARY VIEW prompts AS SELECT * FROM (VALUES ('red apple')) AS t(prompt)");
        env.executeSql("CREATE TEMPORARY MODEL painter INPUT (prompt STRING) OUTPUT (image BYTES)"
                + " WITH ('provider' = 'latte-flow', 'model' = '" + missing + "')");

        Exception e = assertThrows(Exception.class, () -> collect(env,
                "SELECT * FROM ML_PREDICT(TABLE prompts, MODEL painter, DESCRIPTOR(prompt))"));

        assertCauseSays(e, "model directory '" + missing + "' (option 'model') does not exist");
    }

    @Test
    void outputSchemaThatDoesNotFitTheTaskFailsThePlanSayingWhatIsExpected() {
        TableEnvironment env = tableEnv();
        env.executeSql("CREATE TEMPORARY VIEW prompts AS SELECT * FROM (VALUES ('red apple')) AS t(prompt)");
        env.executeSql(generateModel("painter", "image STRING"));

        Exception e = assertThrows(Exception.class, () -> collect(env,
                "SELECT * FROM ML_PREDICT(TABLE prompts, MODEL painter, DESCRIPTOR(prompt))"));

        assertCauseSays(e, "a 'generate' model has OUTPUT (image BYTES), optionally with an 'error STRING' column");
    }

    // ---------------------------------------------------------------------------------------------------------

    private static TableEnvironment tableEnv() {
        return TableEnvironment.create(EnvironmentSettings.newInstance().inBatchMode().withConfiguration(oneSlot()).build());
    }

    /** One subtask: the machine running the tests has few cores, and the model is shared per JVM anyway. */
    private static Configuration oneSlot() {
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", "1");
        return conf;
    }

    private static String generateModel(String name, String output) {
        return generateModel(name, output, "");
    }

    /** Written with the first release's option names ('checkpoint', 'batch-size'), which are still read (issue 17). */
    private static String generateModel(String name, String output, String moreOptions) {
        return "CREATE TEMPORARY MODEL " + name + " INPUT (prompt STRING) OUTPUT (" + output + ") WITH ("
                + "'provider' = 'latte-flow', 'checkpoint' = '" + checkpoint + "', 'task' = 'generate',"
                + " 'steps' = '" + STEPS + "', 'seed' = '" + SEED + "', 'batch-size' = '4'" + moreOptions + ")";
    }

    private static String vqaModel(String name, String output) {
        return "CREATE TEMPORARY MODEL " + name + " INPUT (image BYTES, question STRING) OUTPUT (" + output + ") WITH ("
                + "'provider' = 'latte-flow', 'model' = '" + checkpoint + "', 'task' = 'answer',"
                + " 'max-new-tokens' = '4')";
    }

    private static void photos(TableEnvironment env, Object... rows) {
        Table t = env.fromValues(DataTypes.ROW(DataTypes.FIELD("id", DataTypes.INT()),
                DataTypes.FIELD("image", DataTypes.BYTES()), DataTypes.FIELD("question", DataTypes.STRING())), rows);
        env.createTemporaryView("photos", t);
    }

    private static List<Row> collect(TableEnvironment env, String sql) throws Exception {
        List<Row> out = new ArrayList<>();
        try (CloseableIterator<Row> it = env.executeSql(sql).collect()) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    private static byte[] png(long seed, int side) throws IOException {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(seed);
        for (int y = 0; y < side; y++) for (int x = 0; x < side; x++) img.setRGB(x, y, r.nextInt(0xffffff));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** A valid 1x1 PNG whose header is rewritten to declare 100000 x 100000 pixels (CRC fixed up). */
    private static byte[] bombPng() throws IOException {
        byte[] b = png(5, 1);
        java.nio.ByteBuffer.wrap(b).putInt(16, 100_000).putInt(20, 100_000);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b, 12, 17);
        java.nio.ByteBuffer.wrap(b).putInt(29, (int) crc.getValue());
        return b;
    }

    private static void assertFailed(Object result, String error, String because) {
        assertNull(result);
        assertNotNull(error, "error column is empty; expected one saying '" + because + "'");
        assertTrue(error.contains(because), "error '" + error + "' does not say '" + because + "'");
    }

    private static void assertCauseSays(Throwable e, String text) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) all.append(t.getMessage()).append('\n');
        assertTrue(all.toString().contains(text), "no cause says '" + text + "':\n" + all);
    }
}
