package io.latteflow.model.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.LatteFlow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Hugging Face folder that this implementation cannot run is refused with one line that names the file, the key
 * or tensor and what is supported, before any weight is read; a request the model cannot serve is refused before
 * the model works on it.
 */
class Qwen2VlFolderBadInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path fixture(String folder) throws Exception {
        return Path.of(Qwen2VlFolderBadInputTest.class.getResource("/fixtures/qwen2vl-folders/" + folder + "/config.json").toURI()).getParent();
    }

    /** A copy of a fixture folder, so that breaking it leaves the fixture as it is. */
    private static Path copy(String folder, Path tmp) throws Exception {
        Path to = tmp.resolve(folder);
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(fixture(folder))) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    private static void editConfig(Path dir, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode config = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
    }

    private static String refusal(Path dir) {
        return assertThrows(IOException.class, () -> LatteFlow.load(dir).close()).getMessage();
    }

    private static void assertContains(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "'" + p + "' not in: " + message);
        assertEquals(1, message.lines().count(), "one line: " + message);
    }

    @Test
    void aMissingShardIsNamed(@TempDir Path tmp) throws Exception {
        Path dir = copy("tied-bf16-sharded", tmp);
        Files.delete(dir.resolve("model-00002-of-00003.safetensors"));
        assertContains(refusal(dir), "model-00002-of-00003.safetensors", "missing");
    }

    @Test
    void anIndexNamingAFileThatIsNotThereIsRefused(@TempDir Path tmp) throws Exception {
        Path dir = copy("tied-bf16-sharded", tmp);
        ObjectNode index = (ObjectNode) JSON.readTree(dir.resolve("model.safetensors.index.json").toFile());
        ((ObjectNode) index.get("weight_map")).put("model.norm.weight", "model-00007-of-00007.safetensors");
        JSON.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        assertContains(refusal(dir), "model-00007-of-00007.safetensors", "model.norm.weight");
    }

    @Test
    void aTensorWhoseShapeDisagreesWithConfigJsonIsNamedWithItsFileAndBothShapes(@TempDir Path tmp) throws Exception {
        Path dir = copy("untied-f32", tmp);
        editConfig(dir, c -> ((ObjectNode) c.get("text_config")).put("intermediate_size", 48));
        String m = refusal(dir);
        assertContains(m, "mlp.", "model.safetensors", "has shape", "but the config expects");
        assertTrue(m.matches(".*has shape \\[(64, 32|32, 64)\\] but the config expects \\[(48, 32|32, 48)\\].*"), m);
    }

    @Test
    void anotherArchitectureIsRefusedSayingWhatIsSupported(@TempDir Path tmp) throws Exception {
        Path dir = copy("tied-bf16-sharded", tmp);
        editConfig(dir, c -> {
            c.put("model_type", "qwen2_5_vl");
            c.putArray("architectures").add("Qwen2_5_VLForConditionalGeneration");
        });
        assertContains(refusal(dir), "qwen2_5_vl", "supported is qwen2_vl", "Qwen2VLForConditionalGeneration");
    }

    @Test
    void slidingWindowAttentionIsRefused(@TempDir Path tmp) throws Exception {
        Path dir = copy("tied-bf16-sharded", tmp);
        editConfig(dir, c -> c.put("use_sliding_window", true));
        assertContains(refusal(dir), "use_sliding_window", "config.json");
    }

    @Test
    void anMropeSplitOtherThanQwensIsRefused(@TempDir Path tmp) throws Exception {
        Path dir = copy("tied-bf16-sharded", tmp);
        editConfig(dir, c -> ((ObjectNode) c.get("rope_scaling")).putArray("mrope_section").add(2).add(1).add(1));
        assertContains(refusal(dir), "mrope_section [2, 1, 1]", "[1, 1, 2]");
    }

    @Test
    void anUntiedHeadWithoutItsTensorIsRefused(@TempDir Path tmp) throws Exception {
        Path dir = copy("tied-bf16-sharded", tmp);
        editConfig(dir, c -> c.put("tie_word_embeddings", false));
        assertContains(refusal(dir), "lm_head.weight", "tie_word_embeddings");
    }

    @Test
    void videoQuestionsTooLongQuestionsAndWrongImageCountsAreRefusedBeforeTheModelRuns() throws Exception {
        try (LatteFlow flow = LatteFlow.load(fixture("tied-bf16-sharded"))) {
            BufferedImage image = ImageIO.read(fixture("tied-bf16-sharded").resolveSibling("wide.png").toFile());
            Qwen2VlChat chat = flow.chat();
            List<Map<String, Object>> video = List.of(Map.of("role", "user", "content",
                    List.of(Map.of("type", "video"), Map.of("type", "text", "text", "What happens?"))));
            String v = assertThrows(IllegalArgumentException.class, () -> chat.prompt(video, List.of())).getMessage();
            assertTrue(v.contains("Video input is not supported"), v);
            String longQuestion = "word ".repeat(600);
            String c = assertThrows(IllegalArgumentException.class,
                    () -> chat.prompt(Qwen2VlChat.question(longQuestion), List.of(image))).getMessage();
            assertTrue(c.contains("exceeds the context limit of 512 tokens"), c);
            String n = assertThrows(IllegalArgumentException.class,
                    () -> chat.prompt(Qwen2VlChat.question("two?"), List.of(image, image))).getMessage();
            assertTrue(n.contains("1 image placeholders but 2 images"), n);
            assertEquals(flow.answer(io.latteflow.model.VqaRequest.of(image, "What is it?")).length() >= 0, true, "still answers");
        }
    }

    @Test
    void anImageAboveMaxPixelsIsResizedDownNotRefused() throws Exception {
        try (LatteFlow flow = LatteFlow.load(fixture("untied-f32"))) {
            ImageProcessor p = flow.chat().processor();
            int[] size = p.smartResize(800, 1000);                              // 800k pixels, max_pixels 4096
            assertTrue((long) size[0] * size[1] <= 4096 && size[0] % 8 == 0 && size[1] % 8 == 0, size[0] + "x" + size[1]);
            assertTrue(size[1] > size[0], "aspect ratio kept");
        }
    }
}
