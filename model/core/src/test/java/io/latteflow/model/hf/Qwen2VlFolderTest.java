package io.latteflow.model.hf;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.io.SafeTensors;
import io.latteflow.model.vlm.VisionLanguageModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hugging Face Qwen2-VL folders, as a user downloads them, answer exactly as transformers does. The fixture
 * ({@code src/test/resources/fixtures/qwen2vl-folders/}, written by {@code src/test/python/make_qwen2vl_folders.py}
 * with transformers 5.17.0 and torch 2.14.1) holds two tiny random checkpoints saved by the real Hugging Face code:
 * one tied, BF16, sharded with an index, a flat hub-style config and the old key layout; one untied, F32, one file
 * in the new key layout, a nested config and the chat template inside tokenizer_config.json. Each case is a chat
 * with images of other sizes than square (one smart_resize keeps, two it changes) at different places in the prompt,
 * with HF's rendered prompt, input ids, pixel values, get_rope_index positions, logits and greedy generate() ids.
 */
class Qwen2VlFolderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Logits of order 1-10, both sides in float32 (HF loads the BF16 folder upcast to float32). */
    private static final double LOGITS_ATOL = 1e-4;
    /** Our bicubic is PIL's, HF's slow processor; both rescale and normalise in float32. */
    private static final double PIXEL_ATOL = 1e-5;

    private static Path root;
    private static JsonNode cases;
    private static final Map<String, LatteFlow> flows = new HashMap<>();

    @BeforeAll
    static void load() throws Exception {
        root = Path.of(Qwen2VlFolderTest.class.getResource("/fixtures/qwen2vl-folders/cases.json").toURI()).getParent();
        cases = JSON.readTree(root.resolve("cases.json").toFile());
    }

    @AfterAll
    static void close() {
        flows.values().forEach(LatteFlow::close);
    }

    static synchronized LatteFlow flow(String folder) throws IOException {
        LatteFlow f = flows.get(folder);
        if (f == null) flows.put(folder, f = LatteFlow.load(root.resolve(folder)));
        return f;
    }

    static Stream<String> caseNames() throws Exception {
        load();
        List<String> names = new ArrayList<>();
        cases.get("cases").forEach(c -> names.add(c.get("name").asText()));
        return names.stream();
    }

    static JsonNode caseNamed(String name) {
        for (JsonNode c : cases.get("cases")) if (c.get("name").asText().equals(name)) return c;
        throw new IllegalArgumentException(name);
    }

    static List<Map<String, Object>> messages(JsonNode c) {
        return JSON.convertValue(c.get("messages"), new TypeReference<>() { });
    }

    static List<BufferedImage> images(JsonNode c) throws IOException {
        List<BufferedImage> out = new ArrayList<>();
        for (JsonNode name : c.get("images")) out.add(ImageIO.read(root.resolve(name.asText()).toFile()));
        return out;
    }

    static Map<String, INDArray> expected(String name) throws IOException {
        Map<String, INDArray> out = new HashMap<>();
        try (SafeTensors st = SafeTensors.open(root.resolve(name + ".safetensors"))) {
            for (String t : st.names()) out.put(t, st.get(t));
        }
        return out;
    }

    static Qwen2VlChat.Prompt prompt(JsonNode c) throws IOException {
        return flow(c.get("folder").asText()).chat().prompt(messages(c), images(c));
    }

    static int[] ints(INDArray a) {
        float[] f = a.dup('c').data().asFloat();
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) out[i] = Math.round(f[i]);
        return out;
    }

    /** HF's generate() output without the eos token it ends on. */
    static int[] hfAnswer(JsonNode c) {
        List<Integer> ids = new ArrayList<>();
        c.get("generated").forEach(t -> ids.add(t.asInt()));
        if (c.get("hit_eos").asBoolean()) ids.remove(ids.size() - 1);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @ParameterizedTest
    @MethodSource("caseNames")
    void theCheckpointsOwnChatTemplateRendersHfsPrompt(String name) throws Exception {
        JsonNode c = caseNamed(name);
        ChatTemplate template = ChatTemplate.read(root.resolve(c.get("folder").asText()));
        assertEquals(c.get("prompt").asText(), template.render(messages(c), true));
    }

    @ParameterizedTest
    @MethodSource("caseNames")
    void inputIdsAndMropePositionsEqualHfProcessorAndGetRopeIndex(String name) throws Exception {
        JsonNode c = caseNamed(name);
        Map<String, INDArray> hf = expected(name);
        Qwen2VlChat.Prompt p = prompt(c);
        assertArrayEquals(ints(hf.get("input_ids")), p.ids(), "input ids");
        INDArray pos = hf.get("position_ids");                                   // (3, 1, n)
        for (int k = 0; k < 3; k++) assertArrayEquals(ints(pos.slice(k)), toInts(p.positions()[k]), "position component " + k);
        int[] grids = ints(hf.get("image_grid_thw"));
        for (int i = 0; i < p.images().size(); i++) {
            assertEquals(grids[3 * i + 1], p.images().get(i).gridH(), "grid height of image " + i);
            assertEquals(grids[3 * i + 2], p.images().get(i).gridW(), "grid width of image " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("caseNames")
    void pixelValuesEqualHfsPilProcessorAndDifferFromTorchvisionsByAFewLevels(String name) throws Exception {
        Map<String, INDArray> hf = expected(name);
        Qwen2VlChat.Prompt p = prompt(caseNamed(name));
        List<INDArray> rows = new ArrayList<>();
        for (ImageProcessor.Pixels px : p.images()) {
            long n = (long) px.gridH() * px.gridW();
            rows.add(Nd4j.create(px.patches(), new long[]{n, px.patches().length / n}, 'c'));
        }
        INDArray ours = Nd4j.concat(0, rows.toArray(new INDArray[0]));
        double slow = maxDiff(hf.get("pixel_values"), ours), fast = maxDiff(hf.get("pixel_values_fast"), ours);
        System.out.printf("pixel_values %-16s max|HF PIL - ours| %.3g, max|HF torchvision - ours| %.3g%n", name, slow, fast);
        assertTrue(slow <= PIXEL_ATOL, "pixel values differ from HF's PIL processor by " + slow);
        // One 8-bit level is 1/255/std ~ 0.015 after normalisation; the torchvision backend stays within 2 levels.
        assertTrue(fast <= 2 * (1 / 255.0) / 0.26130258 + 1e-6, "pixel values differ from HF's torchvision processor by " + fast);
    }

    @ParameterizedTest
    @MethodSource("caseNames")
    void promptLogitsEqualHfLogits(String name) throws Exception {
        JsonNode c = caseNamed(name);
        LatteFlow flow = flow(c.get("folder").asText());
        Qwen2VlChat.Batch b = flow.chat().batch(List.of(prompt(c)));
        INDArray hidden = flow.model().vlm().prefillEmbeddings(b.prompts(), b.embeds()).hidden();   // (1, n, d)
        var params = flow.model().params();
        INDArray head = params.has("lm_head.weight") ? params.get("lm_head.weight") : params.get("model.embed_tokens.weight");
        INDArray logits = hidden.reshape(hidden.size(1), hidden.size(2)).mmul(head.transpose());
        INDArray hf = expected(name).get("logits");
        double diff = maxDiff(hf.reshape(logits.shape()), logits);
        System.out.printf("logits %-16s max|HF - ours| %.3g (max|HF| %.3g)%n", name, diff, hf.amaxNumber().doubleValue());
        assertTrue(diff <= LOGITS_ATOL * Math.max(1, hf.amaxNumber().doubleValue()), name + ": logits differ by " + diff);
    }

    @ParameterizedTest
    @MethodSource("caseNames")
    void greedyAnswersEqualHfGenerateTokenForToken(String name) throws Exception {
        JsonNode c = caseNamed(name);
        LatteFlow flow = flow(c.get("folder").asText());
        VisionLanguageModel.Decoding greedy = flow.chat().decoding(c.get("max_new_tokens").asInt(), 0, 1);
        int[] ours = flow.chat().generate(List.of(prompt(c)), greedy, new long[1])[0];
        assertArrayEquals(hfAnswer(c), ours);
    }

    @Test
    void aBatchOfDifferentImageSizesAndLengthsAnswersAsEachPromptAlone() throws Exception {
        List<Qwen2VlChat.Prompt> prompts = new ArrayList<>();
        List<int[]> alone = new ArrayList<>();
        for (JsonNode name : cases.get("batch").get("cases")) {
            JsonNode c = caseNamed(name.asText());
            prompts.add(prompt(c));
            alone.add(hfAnswer(c));
        }
        LatteFlow flow = flow("tied-bf16-sharded");
        int[][] batched = flow.chat().generate(prompts, flow.chat().decoding(12, 0, 1), new long[prompts.size()]);
        for (int i = 0; i < batched.length; i++) assertArrayEquals(alone.get(i), batched[i], "row " + i);
    }

    @Test
    void theFacadeAnswersAQuestionAboutAnImageOfItsOwnSize() throws Exception {
        JsonNode c = caseNamed("one-image");
        LatteFlow flow = flow("tied-bf16-sharded");
        BufferedImage image = images(c).get(0);
        assertEquals(image.getWidth(), flow.readableImage(image).getWidth(), "not resized to a square");
        String answer = flow.answer(io.latteflow.model.VqaRequest.of(image, "What is in this picture?").withMaxNewTokens(12));
        assertEquals(flow.tokenizer().decode(hfAnswer(c)).trim(), answer);
        assertTrue(!flow.canGenerate() && flow.generationRefusal().contains("init-couple"), flow.generationRefusal());
    }

    private static int[] toInts(long[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) out[i] = Math.toIntExact(a[i]);
        return out;
    }

    private static double maxDiff(INDArray a, INDArray b) {
        assertArrayEquals(a.shape(), b.shape(), "shape");
        return Transforms.abs(a.castTo(b.dataType()).sub(b)).maxNumber().doubleValue();
    }
}
