package io.latteflow.model.vlm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.Images;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteWeights;
import io.latteflow.model.io.SafeTensors;
import io.latteflow.model.nn.Net;
import io.latteflow.model.nn.ParamStore;
import io.latteflow.model.nn.Rope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Parity of our Qwen2-VL backbone with Hugging Face's own modeling code (transformers 5.17.0, torch 2.14.1, float32,
 * eager attention) on a tiny model whose every weight, bias and norm weight is random. The fixture in
 * {@code src/test/resources/fixtures/qwen2vl/} is written by {@code src/test/python/make_qwen2vl_fixture.py}:
 * the HF checkpoint ({@code config.json}, {@code model.safetensors}), the image as an 8-bit PNG, and what HF computed
 * from them ({@code expected.safetensors}: processor pixel values, get_rope_index positions, vision tower output,
 * per-layer activations and cached keys/values, final hidden states and logits).
 */
class Qwen2VlParityTest {
    /** Pixel values: ours divide in float32, HF's torchvision processor rescales and normalises in float32 too. */
    private static final double PIXEL_ATOL = 1e-5;
    /** Activations of order 1-10; both sides compute in float32 (HF: RMSNorm, RoPE tables, softmax in float32). */
    private static final double ATOL = 1e-4;

    private static final String DIR = "/fixtures/qwen2vl/";

    private static LatteConfig c;
    private static ParamStore params;
    private static Map<String, INDArray> expected;
    private static int[] ids;
    private static int n;
    private static INDArray ourPatches;
    private static PromptBatch batch;
    private static VisionLanguageModel.Prefill prefill;
    private static Set<String> fixtureNames;
    private static java.net.URI URI_OF_CONFIG;

    @BeforeAll
    static void runBothSides() throws Exception {
        URI_OF_CONFIG = Qwen2VlParityTest.class.getResource(DIR + "config.json").toURI();
        Path dir = Path.of(URI_OF_CONFIG).getParent();
        expected = readAll(dir.resolve("expected.safetensors"));
        int imageSize = Math.round(expected.get("image_grid_thw").getFloat(0, 1)) * new ObjectMapper()
                .readTree(dir.resolve("config.json").toFile()).get("vision_config").get("patch_size").asInt();
        c = configFrom(new ObjectMapper().readTree(dir.resolve("config.json").toFile()), imageSize);
        params = LatteWeights.init(c, 0);
        fixtureNames = loadVlmWeights(dir.resolve("model.safetensors"), params, c);

        float[] idf = expected.get("input_ids").toFloatVector();
        n = idf.length;
        ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = Math.round(idf[i]);
        int pad = 58;                                   // <|endoftext|> in the fixture's vocabulary
        batch = PromptBatch.of(c, List.of(ids), true, pad);
        INDArray image = Images.toArray(ImageIO.read(dir.resolve("image.png").toFile()));
        ourPatches = ImagePatches.patches(c, List.of(image));
        prefill = new VisionLanguageModel(c, params).prefill(batch, ourPatches);
    }

    /** The LatteConfig that the product reads from the HF folder, reading the fixture's square images. */
    private static LatteConfig configFrom(JsonNode hf, int imageSize) throws IOException {
        JsonNode t = hf.get("text_config"), v = hf.get("vision_config");
        Path dir = Path.of(URI_OF_CONFIG).getParent();
        LatteConfig cfg = io.latteflow.model.hf.Qwen2VlFolder.read(dir).config().toBuilder().imageSize(imageSize).build();
        // Things our model hard-codes; the fixture must agree with them or the comparison is meaningless.
        assertTrue(hf.get("tie_word_embeddings").asBoolean(), "our LM head is the tied embedding");
        assertEquals("silu", t.get("hidden_act").asText());
        assertEquals("quick_gelu", v.get("hidden_act").asText());
        assertEquals(3, v.get("in_channels").asInt());
        assertEquals(cfg.hiddenSize(), v.get("hidden_size").asInt(), "patch merger output = text width");
        assertEquals(10000.0, v.get("rope_parameters").get("rope_theta").asDouble(), "ImagePatches.rope uses theta 10000");
        int[] section = new int[3];
        for (int i = 0; i < 3; i++) section[i] = t.get("rope_parameters").get("mrope_section").get(i).asInt();
        assertArrayEquals(section, cfg.mropeSection(), "LatteConfig.mropeSection() vs HF mrope_section");
        return cfg;
    }

    private static Map<String, INDArray> readAll(Path file) throws IOException {
        Map<String, INDArray> out = new HashMap<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String name : st.names()) out.put(name, st.get(name));
        }
        return out;
    }

    /** HF names in either layout (the one transformers 5.17 saves: model.layers.*, visual.*; or the nested one). */
    private static String canonical(String name) {
        if (name.startsWith("model.language_model.")) return "model." + name.substring("model.language_model.".length());
        if (name.startsWith("model.visual.")) return name.substring("model.".length());
        return name;
    }

    /** Overwrites every VLM weight of {@code params} from the HF file; fails on a missing, extra or misshapen one. */
    private static Set<String> loadVlmWeights(Path file, ParamStore params, LatteConfig c) throws IOException {
        Map<String, LatteWeights.Spec> specs = LatteWeights.specs(c);
        Set<String> seen = new HashSet<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String stored : st.names()) {
                String name = canonical(stored);
                LatteWeights.Spec spec = specs.get(name);
                if (spec == null || name.startsWith("gen.")) fail("HF tensor '" + stored + "' has no counterpart in LatteWeights");
                INDArray value = st.get(stored);
                assertArrayEquals(spec.shape(), value.shape(), "shape of " + stored);
                params.get(name).assign(value);
                seen.add(name);
            }
        }
        List<String> missing = specs.keySet().stream().filter(k -> !k.startsWith("gen.") && !seen.contains(k)).toList();
        assertTrue(missing.isEmpty(), "VLM weights missing from the HF checkpoint: " + missing);
        return seen;
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void everyVlmWeightOfOursIsAnHfWeightOfTheSameNameAndShape() {
        long vlm = LatteWeights.specs(c).keySet().stream().filter(k -> !k.startsWith("gen.")).count();
        assertEquals(vlm, fixtureNames.size());
        assertTrue(fixtureNames.contains("visual.merger.mlp.0.weight") && fixtureNames.contains("model.layers.1.self_attn.q_proj.bias"));
    }

    @Test
    void imagePatchesFromThePngEqualHfProcessorPixelValues() {
        INDArray hf = expected.get("pixel_values");                              // (patches, 3*T*p*p)
        assertArrayEquals(new long[]{1, c.visionPatches(), 3L * c.temporalPatchSize() * c.patchSize() * c.patchSize()}, ourPatches.shape());
        assertClose("pixel_values", hf, ourPatches.reshape(hf.shape()), PIXEL_ATOL);
        float[] grid = expected.get("image_grid_thw").toFloatVector();
        assertArrayEquals(new float[]{1, c.visionGrid(), c.visionGrid()}, grid);
    }

    @Test
    void mropePositionTriplesEqualHfGetRopeIndex() {
        INDArray hf = expected.get("position_ids");                              // (3, 1, n)
        long[][][] ours = batch.positions();
        for (int comp = 0; comp < 3; comp++)
            for (int i = 0; i < n; i++)
                assertEquals((long) hf.getFloat(comp, 0, i), ours[0][comp][i], "position component " + comp + " of token " + i);
        long after = (long) hf.getFloat(0, 0, n - 1) + 1;
        assertEquals(after, batch.nextPos()[0], "first decoded token's position");
    }

    @Test
    void mropeTablesFromOurPositionsEqualTablesFromHfPositions() {
        INDArray hf = expected.get("position_ids");
        long[][][] hfPos = new long[1][3][n];
        for (int comp = 0; comp < 3; comp++)
            for (int i = 0; i < n; i++) hfPos[0][comp][i] = (long) hf.getFloat(comp, 0, i);
        INDArray[] want = Rope.mrope(hfPos, c.headDim(), c.ropeTheta(), c.mropeSection());
        INDArray[] got = batch.rope(c);
        assertClose("cos", want[0], got[0], 0);
        assertClose("sin", want[1], got[1], 0);
    }

    @Test
    void visionTowerOnHfPixelValuesEqualsHfImageFeatures() {
        Net net = new Net(params);
        int pd = 3 * c.temporalPatchSize() * c.patchSize() * c.patchSize(), vdh = c.visionHeadDim();
        SDVariable patches = net.input("patches", -1, c.visionPatches(), pd);
        SDVariable vcos = net.input("vcos", 1, 1, c.visionPatches(), vdh), vsin = net.input("vsin", 1, 1, c.visionPatches(), vdh);
        VisionEncoder.encode(net, c, patches, vcos, vsin).rename("image");
        INDArray[] vrope = ImagePatches.rope(c);
        Map<String, INDArray> in = new HashMap<>();
        in.put("patches", expected.get("pixel_values").reshape(1, c.visionPatches(), pd));
        in.put("vcos", vrope[0]);
        in.put("vsin", vrope[1]);
        INDArray ours = net.sd.output(in, "image").get("image");               // (1, imageTokens, d)
        INDArray hf = expected.get("image_embeds");                              // (imageTokens, d)
        assertClose("image_embeds", hf, ours.reshape(hf.shape()), ATOL);
    }

    @Test
    void eachDecoderLayerMapsHfLayerInputToHfLayerOutput() {
        INDArray hfPos = expected.get("position_ids");
        long[][][] pos = new long[1][3][n];
        for (int comp = 0; comp < 3; comp++)
            for (int i = 0; i < n; i++) pos[0][comp][i] = (long) hfPos.getFloat(comp, 0, i);
        INDArray[] rope = Rope.mrope(pos, c.headDim(), c.ropeTheta(), c.mropeSection());
        INDArray x = expected.get("layer_input.0");
        for (int l = 0; l < c.numLayers(); l++) {
            Net net = new Net(params);
            SDVariable xs = net.input("x", 1, n, c.hiddenSize());
            SDVariable cos = net.input("cos", 1, 1, n, c.headDim()), sin = net.input("sin", 1, 1, n, c.headDim());
            SDVariable mask = net.input("mask", 1, 1, n, n);
            TextDecoder.LayerOut o = TextDecoder.layer(net, c, l, xs, cos, sin, mask, null, null);
            o.hidden().rename("out");
            net.sd.identity("k", o.keys());
            net.sd.identity("v", o.values());
            Map<String, INDArray> in = new HashMap<>();
            in.put("x", x);
            in.put("cos", rope[0]);
            in.put("sin", rope[1]);
            in.put("mask", batch.causalMask());
            Map<String, INDArray> out = net.sd.output(in, "out", "k", "v");
            assertClose("key." + l + " (HF layer input)", expected.get("key." + l), out.get("k"), ATOL);
            assertClose("value." + l + " (HF layer input)", expected.get("value." + l), out.get("v"), ATOL);
            assertClose("layer_output." + l + " (HF layer input)", expected.get("layer_output." + l), out.get("out"), ATOL);
            x = expected.get("layer_output." + l);
        }
    }

    @Test
    void prefillKeysAndValuesOfEveryLayerEqualHfKvCache() {
        for (int l = 0; l < c.numLayers(); l++) {
            assertClose("key." + l, expected.get("key." + l), prefill.keys()[l], ATOL);
            assertClose("value." + l, expected.get("value." + l), prefill.values()[l], ATOL);
        }
    }

    @Test
    void prefillFinalHiddenStatesEqualHfLastHiddenState() {
        assertClose("last_hidden_state", expected.get("last_hidden_state"), prefill.hidden(), ATOL);
    }

    @Test
    void logitsFromTiedEmbeddingEqualHfLogits() {
        INDArray hidden = prefill.hidden().reshape(n, c.hiddenSize());
        INDArray logits = hidden.mmul(params.get("model.embed_tokens.weight").transpose()).reshape(1, n, c.vocabSize());
        INDArray hf = expected.get("logits");
        double scale = Math.max(1, hf.amaxNumber().doubleValue());
        assertClose("logits", hf, logits, ATOL * scale);
        for (int i = 0; i < n; i++) {
            assertEquals(hf.get(NDArrayIndex.point(0), NDArrayIndex.point(i), NDArrayIndex.all()).argMax().getInt(0),
                    logits.get(NDArrayIndex.point(0), NDArrayIndex.point(i), NDArrayIndex.all()).argMax().getInt(0),
                    "greedy token after position " + i);
        }
    }

    @Test
    void rightPaddedShorterRowInABatchMatchesHfOnItsRealTokens() {
        int cut = n - 2;                                   // same prompt without its last two tokens: a causal prefix
        int[] shorter = Arrays.copyOf(ids, cut);
        PromptBatch two = PromptBatch.of(c, List.of(ids, shorter), true, 58);
        INDArray patches = Nd4j.concat(0, ourPatches, ourPatches);
        VisionLanguageModel.Prefill p = new VisionLanguageModel(c, params).prefill(two, patches);
        INDArray hf = expected.get("last_hidden_state");
        assertClose("row 0", hf, p.hidden().get(NDArrayIndex.interval(0, 1), NDArrayIndex.all(), NDArrayIndex.all()), ATOL);
        assertClose("row 1 real tokens",
                hf.get(NDArrayIndex.all(), NDArrayIndex.interval(0, cut), NDArrayIndex.all()),
                p.hidden().get(NDArrayIndex.interval(1, 2), NDArrayIndex.interval(0, cut), NDArrayIndex.all()), ATOL);
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** Max |want - got| <= atol, reporting the worst element's index and both values. */
    private static void assertClose(String what, INDArray want, INDArray got, double atol) {
        assertArrayEquals(want.shape(), got.shape(), what + " shape");
        float[] a = want.dup('c').data().asFloat(), b = got.dup('c').data().asFloat();
        double worst = -1;
        int at = -1;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(d)) d = Double.POSITIVE_INFINITY;
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        System.out.printf("parity %-40s max|diff| %.3g (atol %.1g, max|HF| %.3g)%n", what, worst, atol,
                Arrays.stream(toDoubles(a)).map(Math::abs).max().orElse(0));
        if (worst > atol) {
            List<Long> index = new ArrayList<>();
            long rest = at;
            long[] shape = want.shape();
            for (int d = shape.length - 1; d >= 0; d--) {
                index.add(0, rest % shape[d]);
                rest /= shape[d];
            }
            fail(what + ": max |HF - ours| = " + worst + " > " + atol + " at " + index + " (HF " + a[at] + ", ours " + b[at] + ")");
        }
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
