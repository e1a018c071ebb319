package io.latteflow.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.hf.Qwen2VlFolder;
import io.latteflow.model.io.LatteTokenizer;
import io.latteflow.model.io.SafeTensors;
import io.latteflow.model.io.SafeTensorsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parser bugs of issue 19's fuzzing, each as a plain test with the input that showed it (the same inputs are
 * regression seeds of the fuzz tests, {@code src/test/resources/.../*FuzzTestInputs/}).
 */
class ParserFindingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "'" + p + "' not in: " + e.getMessage());
    }

    private Path tokenizerWith(Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(Path.of("../../models/latte-fashion/tokenizer.json").toFile());
        edit.accept(root);
        Path file = dir.resolve("tokenizer.json");
        JSON.writeValue(file.toFile(), root);
        return file;
    }

    @Test
    void aTokenIdOfTwoBillionIsRefusedBeforeAnythingIsSizedByIt() throws IOException {
        Path file = tokenizerWith(r -> ((ObjectNode) r.get("added_tokens").get(0)).put("id", 2_000_000_000));
        assertMentions(assertThrows(IOException.class, () -> LatteTokenizer.load(file)), "id", "2000000000", "<|endoftext|>");
        Path max = tokenizerWith(r -> ((ObjectNode) r.get("added_tokens").get(0)).put("id", Integer.MAX_VALUE));
        assertMentions(assertThrows(IOException.class, () -> LatteTokenizer.load(max)), "2147483647");
        Path negative = tokenizerWith(r -> ((ObjectNode) r.get("model").get("vocab")).put("[UNK]", -1));
        assertMentions(assertThrows(IOException.class, () -> LatteTokenizer.load(negative)), "[UNK]", "-1");
    }

    @Test
    void aConfigWithTwoBillionLayersOrNoVisionHeadsIsRefusedByName() throws IOException {
        LatteConfig base = LatteConfig.tiny();
        assertMentions(assertThrows(IllegalArgumentException.class, () -> base.toBuilder().numLayers(2_000_000_000).groups(1).build()),
                "numLayers", "2000000000");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> base.toBuilder().visionHeads(0).build()), "visionHeads");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> base.toBuilder().visionHidden(-32).visionHeads(-2).build()),
                "visionHidden");
        assertMentions(assertThrows(IllegalArgumentException.class,
                () -> base.toBuilder().patchSize(65536).spatialMergeSize(65536).imageSize(65536).build()), "patchSize");
        ObjectNode json = JSON.valueToTree(base);
        json.put("visionHeads", 0);
        Path file = dir.resolve("config.json");
        JSON.writeValue(file.toFile(), json);
        assertMentions(assertThrows(IOException.class, () -> LatteConfig.read(file)), "visionHeads");
        Files.writeString(file, "null");                          // found by fuzzing: read returned null
        assertMentions(assertThrows(IOException.class, () -> LatteConfig.read(file)), "JSON null");
        Files.writeString(file, JSON.writeValueAsString(base) + " {}");
        assertMentions(assertThrows(IOException.class, () -> LatteConfig.read(file)), "config.json");
    }

    private Path hfConfigWith(Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(ParserFindingsTest.class.getResource("/fixtures/qwen2vl/config.json"));
        edit.accept(root);
        JSON.writeValue(dir.resolve("config.json").toFile(), root);
        return dir;
    }

    @Test
    void aQwen2VlConfigWithZeroVisionHeadsOrAnMropeSectionThatIsNoListIsRefused() throws IOException {
        Path heads = hfConfigWith(r -> ((ObjectNode) r.get("vision_config")).put("num_heads", 0));
        assertMentions(assertThrows(IOException.class, () -> Qwen2VlFolder.read(heads)), "visionHeads");
        Path section = hfConfigWith(r -> ((ObjectNode) r.get("text_config").get("rope_parameters")).putObject("mrope_section").put("a", 1));
        assertMentions(assertThrows(IOException.class, () -> Qwen2VlFolder.read(section)), "mrope_section");
        Files.writeString(dir.resolve("config.json"), "");
        assertMentions(assertThrows(IOException.class, () -> Qwen2VlFolder.read(dir)), "config.json");
        Files.writeString(dir.resolve("config.json"), "[1, 2]");
        assertMentions(assertThrows(IOException.class, () -> Qwen2VlFolder.read(dir)), "not a JSON object");
    }

    @Test
    void aShardNameHoldingANulCharacterIsRefusedAsNoPlainFileName() throws IOException {
        ObjectNode index = JSON.createObjectNode();
        index.putObject("weight_map").put("w", "model\u0000.safetensors");
        JSON.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        assertMentions(assertThrows(SafeTensorsException.class, () -> SafeTensors.checkpointFiles(dir)), "not a plain file name");
    }

    /** Found by fuzzing: NUL bytes first make Jackson guess UTF-32, whose CharConversionException is no JsonProcessingException. */
    @Test
    void aHeaderOrIndexThatJacksonTakesForUtf32IsRefusedAsNotJsonText() throws IOException {
        byte[] header = ("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] file = new byte[8 + 6 + header.length + 4];
        java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(6 + header.length);
        System.arraycopy(header, 0, file, 14, header.length);      // six NUL bytes, then the JSON
        Path st = Files.write(dir.resolve("utf32.safetensors"), file);
        assertMentions(assertThrows(SafeTensorsException.class, () -> SafeTensors.open(st)), "not valid JSON");
        byte[] index = new byte[41 + 20];
        System.arraycopy("{\"weight_map\": {}}".getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, index, 41, 18);
        Files.write(dir.resolve("model.safetensors.index.json"), index);
        assertMentions(assertThrows(SafeTensorsException.class, () -> SafeTensors.checkpointFiles(dir)), "not valid JSON");
    }
}
