package io.latteflow.model;

import io.latteflow.model.io.DType;
import io.latteflow.model.io.SafeTensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Every bad input gets an exception that names the problem; the model keeps working afterwards. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    LatteFlow flow;

    @BeforeAll
    void setUp() {
        flow = LatteFlow.create(LatteConfig.tiny(), 1);
    }

    @AfterAll
    void tearDown() {
        flow.close();
    }

    @Test
    void stepsBelowOneAreRefused() {
        assertMessage(IllegalArgumentException.class, "steps must be >= 1, got 0", () -> GenerationRequest.of("a").withSteps(0));
        assertMessage(IllegalArgumentException.class, "steps must be >= 1, got -3", () -> GenerationRequest.of("a").withSteps(-3));
    }

    @Test
    void nanInfiniteOrNegativeGuidanceIsRefused() {
        assertMessage(IllegalArgumentException.class, "guidance must be a finite number >= 0, got NaN", () -> GenerationRequest.of("a").withGuidance(Double.NaN));
        assertMessage(IllegalArgumentException.class, "got -1.0", () -> GenerationRequest.of("a").withGuidance(-1));
        assertMessage(IllegalArgumentException.class, "got Infinity", () -> GenerationRequest.of("a").withGuidance(Double.POSITIVE_INFINITY));
    }

    @Test
    void promptLongerThanTheContextLimitIsRefusedAndTheModelStillWorks() {
        String longPrompt = "red ".repeat(LatteConfig.tiny().maxContextTokens());
        assertMessage(IllegalArgumentException.class, "exceeds the context limit of 48 tokens", () -> flow.generate(GenerationRequest.of(longPrompt).withSteps(1)));
        assertMessage(IllegalArgumentException.class, "exceeds the context limit", () -> flow.answer(VqaRequest.of(Nd4j.rand(3, 16, 16), longPrompt)));
        assertNotNull(flow.generate(GenerationRequest.of("red").withSteps(1)).pixels());
    }

    @Test
    void imageOfTheWrongSizeOrChannelCountIsRefused() {
        assertMessage(IllegalArgumentException.class, "Image must be (3, 16, 16)", () -> flow.answer(VqaRequest.of(Nd4j.rand(3, 20, 20), "what")));
        assertMessage(IllegalArgumentException.class, "(4 channels)", () -> flow.answer(VqaRequest.of(Nd4j.rand(4, 16, 16), "what")));
        assertMessage(IllegalArgumentException.class, "got shape [16, 16]", () -> flow.answer(VqaRequest.of(Nd4j.rand(16, 16), "what")));
        assertMessage(IllegalArgumentException.class, "Images must be (batch, 3, 8, 8)", () -> flow.model().codec().encode(Nd4j.rand(1, 1, 8, 8)));
    }

    @Test
    void invalidConfigNamesTheField() {
        assertMessage(IllegalArgumentException.class, "numLayers 4 must be divisible by groups 3", () -> LatteConfig.tiny().withGroups(3));
        assertMessage(IllegalArgumentException.class, "genImageSize 10 must be divisible by latentPatch 4",
                () -> LatteConfig.tiny().toBuilder().genImageSize(10).latentPatch(4).build());
        // DC-AE f128c512 has 512 latent channels: within the bounds; a pixel patch stays bounded by 64
        assertEquals(512, LatteConfig.tiny().toBuilder().latentChannels(512).build().latentChannels());
        assertThrows(IllegalArgumentException.class, () -> LatteConfig.tiny().toBuilder().latentChannels(1025).build());
    }

    @Test
    void checkpointTensorWithTheWrongShapeNamesTheTensorAndBothShapes(@TempDir Path dir) throws IOException {
        flow.save(dir);
        Map<String, INDArray> tensors = readAll(dir.resolve("model.safetensors"));
        tensors.put("model.layers.1.mlp.up_proj.weight", Nd4j.zeros(63, 32));
        SafeTensors.write(dir.resolve("model.safetensors"), tensors, DType.F32, Map.of());
        assertMessage(IOException.class, "Tensor 'model.layers.1.mlp.up_proj.weight' in " + dir.resolve("model.safetensors")
                + " has shape [63, 32] but the config expects [64, 32]", () -> LatteFlow.load(dir));
    }

    @Test
    void checkpointMissingATensorOrHoldingAStrangerNamesIt(@TempDir Path dir) throws IOException {
        flow.save(dir);
        Map<String, INDArray> tensors = readAll(dir.resolve("model.safetensors"));
        tensors.remove("gen.groups.1.proj_out.bias");
        SafeTensors.write(dir.resolve("model.safetensors"), tensors, DType.F32, Map.of());
        assertMessage(IOException.class, "lacks tensor 'gen.groups.1.proj_out.bias'", () -> LatteFlow.load(dir));
        tensors.put("gen.groups.1.proj_out.bias", Nd4j.zeros(12));
        tensors.put("model.layers.9.mlp.up_proj.weight", Nd4j.zeros(2, 2));
        SafeTensors.write(dir.resolve("model.safetensors"), tensors, DType.F32, Map.of());
        assertMessage(IOException.class, "Unexpected tensor 'model.layers.9.mlp.up_proj.weight'", () -> LatteFlow.load(dir));
    }

    /** Issue 19: a checkpoint of NaN weights drew black images without a word. */
    @Test
    void checkpointHoldingNanOrInfiniteWeightsIsRefusedNamingTheTensor(@TempDir Path dir) throws IOException {
        flow.save(dir);
        Path weights = dir.resolve("model.safetensors");
        Map<String, INDArray> tensors = readAll(weights);
        INDArray broken = tensors.get("gen.groups.0.input_proj.weight").dup();
        broken.putScalar(3, Float.NaN);
        tensors.put("gen.groups.0.input_proj.weight", broken);
        SafeTensors.write(weights, tensors, DType.F32, Map.of());
        assertMessage(IOException.class, "Tensor 'gen.groups.0.input_proj.weight' in " + weights + " holds 1 NaN or infinite value of "
                + broken.length(), () -> LatteFlow.load(dir));

        tensors.put("gen.groups.0.input_proj.weight", Nd4j.zeros(broken.shape()));
        INDArray infinite = Nd4j.ones(tensors.get("model.norm.weight").shape()).muli(Float.POSITIVE_INFINITY);
        tensors.put("model.norm.weight", infinite);
        SafeTensors.write(weights, tensors, DType.BF16, Map.of());
        assertMessage(IOException.class, "Tensor 'model.norm.weight' in " + weights + " holds " + infinite.length() + " NaN or infinite values",
                () -> LatteFlow.load(dir));
    }

    @Test
    void checkpointOfHugeButFiniteWeightsStillLoads(@TempDir Path dir) throws IOException {
        flow.save(dir);
        Path weights = dir.resolve("model.safetensors");
        Map<String, INDArray> tensors = readAll(weights);
        // Their sum overflows float, which alone must not read as a broken tensor.
        tensors.put("model.norm.weight", Nd4j.ones(tensors.get("model.norm.weight").shape()).muli(3e38f));
        SafeTensors.write(weights, tensors, DType.F32, Map.of());
        LatteFlow.load(dir).close();
    }

    @Test
    void truncatedCheckpointOrMissingFilesAreNamed(@TempDir Path dir) throws IOException {
        flow.save(dir);
        Path weights = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        IOException e = assertThrows(IOException.class, () -> LatteFlow.load(dir));
        assertTrue(e.getMessage().contains(weights.toString()), e.getMessage());
        Files.delete(dir.resolve("config.json"));
        assertMessage(IOException.class, "Missing model config " + dir.resolve("config.json"), () -> LatteFlow.load(dir));
        assertMessage(IOException.class, "does not exist", () -> LatteFlow.load(dir.resolve("nowhere")));
    }

    private static Map<String, INDArray> readAll(Path file) throws IOException {
        Map<String, INDArray> out = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String n : st.names()) out.put(n, st.get(n));
        }
        return out;
    }

    private static <T extends Throwable> void assertMessage(Class<T> type, String fragment, org.junit.jupiter.api.function.Executable action) {
        T e = assertThrows(type, action);
        assertTrue(e.getMessage() != null && e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }
}
