package io.latteflow.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.latent.DcAeCodec;
import io.latteflow.model.latent.PixelPatchCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * config.json names the latent codec (issue 20): absent or {@code pixel} is the pixel patch codec, as every checkpoint
 * before it; {@code dc-ae:FOLDER} a DC-AE folder (here the tiny reference model of DcAeCodecTest's fixtures).
 */
class NamedCodecTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static Path tinyDcAe() throws Exception {
        return Path.of(NamedCodecTest.class.getResource("/fixtures/dcae/tiny-a/diffusers/config.json").toURI()).getParent();
    }

    /** tiny, drawing 16x16 images in tiny-a's latent space: 4x4 tokens of 4 channels. */
    static LatteConfig tinyWithDcAe(String folder) {
        return LatteConfig.tiny().toBuilder().genImageSize(16).latentPatch(4).latentChannels(4).codec("dc-ae:" + folder).build();
    }

    @Test
    void aConfigWithoutCodecIsThePixelCodec() throws Exception {
        LatteConfig.tiny().write(dir.resolve("config.json"));
        ObjectNode json = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        assertEquals("pixel", json.get("codec").textValue());
        json.remove("codec");
        JSON.writeValue(dir.resolve("config.json").toFile(), json);
        LatteConfig read = LatteConfig.read(dir.resolve("config.json"));
        assertEquals(LatteConfig.tiny(), read);
        assertTrue(read.pixelCodec());
        assertEquals(3 * 2 * 2, read.latentDim());
        assertInstanceOf(PixelPatchCodec.class, LatteModel.create(read, 1).codec());
    }

    @Test
    void aDcAeCodecDrawsAndSurvivesSaveAndLoad() throws Exception {
        LatteConfig config = tinyWithDcAe(tinyDcAe().toString());
        assertEquals(4, config.latentDim());
        assertEquals(16, config.latentTokens());
        GenerationRequest request = GenerationRequest.of("red apple").withSteps(2).withSeed(5);
        Path saved = dir.resolve("model");
        GeneratedImage first;
        try (LatteFlow flow = LatteFlow.create(config, 1)) {
            assertInstanceOf(DcAeCodec.class, flow.model().codec());
            first = flow.generate(request);
            assertArrayEquals(new long[] {3, 16, 16}, first.pixels().shape());
            flow.save(saved);
        }
        // relative to the model directory
        Files.createDirectories(saved.resolve("codec"));
        try (var files = Files.list(tinyDcAe())) {
            for (Path f : files.toList()) Files.copy(f, saved.resolve("codec").resolve(f.getFileName()));
        }
        ObjectNode json = (ObjectNode) JSON.readTree(saved.resolve("config.json").toFile());
        json.put("codec", "dc-ae:codec");
        JSON.writeValue(saved.resolve("config.json").toFile(), json);
        try (LatteFlow flow = LatteFlow.load(saved)) {
            assertEquals(first.pixels(), flow.generate(request).pixels());
        }
    }

    @Test
    void aCodecThatDoesNotFitOrIsMissingIsRefusedBeforeTheWeights() throws Exception {
        LatteConfig wrongPatch = tinyWithDcAe(tinyDcAe().toString()).toBuilder().latentPatch(2).build();
        String message = assertThrows(IllegalArgumentException.class, () -> LatteModel.create(wrongPatch, 1)).getMessage();
        assertTrue(message.contains("16 tokens of 4 values") && message.contains("64 of 4"), message);
        LatteConfig absent = tinyWithDcAe(dir.resolve("nowhere").toString());
        LatteFlow.create(LatteConfig.tiny(), 1).save(dir.resolve("m"));
        ObjectNode json = (ObjectNode) JSON.valueToTree(absent);
        JSON.writeValue(dir.resolve("m").resolve("config.json").toFile(), json);
        Files.delete(dir.resolve("m").resolve("model.safetensors"));   // the codec is refused first
        message = assertThrows(NoSuchFileException.class, () -> LatteFlow.load(dir.resolve("m"))).getMessage();
        assertTrue(message.contains("codec"), message);
        assertThrows(IllegalArgumentException.class, () -> LatteConfig.tiny().toBuilder().codec("vqgan").build());
    }
}
