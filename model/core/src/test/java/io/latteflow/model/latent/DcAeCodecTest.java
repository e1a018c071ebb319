package io.latteflow.model.latent;

import io.latteflow.model.io.DType;
import io.latteflow.model.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * DcAeCodec against the PyTorch reference bench/dcae_ref.py: tiny random DC-AEs it wrote in diffusers' layout (F32)
 * and in efficientvit's layout (BF16, the same values), with its latents, tokens, decoder outputs and reconstructions
 * for two random images ({@code src/test/resources/fixtures/dcae/}; {@code target/bench-venv/bin/python bench/dcae_ref.py fixtures}).
 * tiny-a is f32c32's shape in miniature (empty first stage, pixel (un)shuffle conv_in/conv_out, batch-norm ReLU
 * ResBlocks, an RMS-norm EfficientViT stage); tiny-b has every stage populated, 5x5 multi-scale q/k/v, and a 2x2 last
 * stage where the reference takes the quadratic form of the attention; tiny-c samples as SANA's DC-AE does (stride-2
 * conv down, nearest upsampling then conv up).
 */
class DcAeCodecTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    static Path fixture(String model) throws Exception {
        return Path.of(DcAeCodecTest.class.getResource("/fixtures/dcae/" + model + "/golden.safetensors").toURI()).getParent();
    }

    static Map<String, INDArray> golden(String model) throws Exception {
        Map<String, INDArray> out = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(fixture(model).resolve("golden.safetensors"))) {
            for (String n : st.names()) out.put(n, st.get(n));
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"tiny-a, diffusers, 16", "tiny-a, original, 16", "tiny-b, diffusers, 8", "tiny-b, original, 8",
            "tiny-c, diffusers, 16", "tiny-c, original, 16"})
    void matchesThePyTorchReference(String model, String layout, int size) throws Exception {
        DcAeCodec codec = DcAeCodec.load(fixture(model).resolve(layout), size);
        assertEquals(layout.equals("diffusers") ? DcAeCodec.Layout.DIFFUSERS : DcAeCodec.Layout.ORIGINAL, codec.layout());
        Map<String, INDArray> g = golden(model);
        INDArray images = g.get("images");
        assertClose(g.get("latents"), codec.encodeLatents(images.mul(2).sub(1)), "latents");
        assertClose(g.get("tokens"), codec.encode(images), "tokens");
        assertClose(g.get("decoded"), codec.decodeLatents(g.get("latents")), "decoded");
        assertClose(g.get("reconstruction"), codec.decode(g.get("tokens")), "reconstruction");
        assertEquals(g.get("tokens").size(1), codec.tokens());
        assertEquals(g.get("tokens").size(2), codec.dim());
        // a second call replays the built graphs with the same result
        assertClose(g.get("tokens"), codec.encode(images), "tokens again");
    }

    /** Every block kind a trained codec uses (ResBlocks, an EfficientViT stage with 3x3 multi-scale q/k/v), in miniature. */
    static DcAeConfig trainable() {
        java.util.List<DcAeConfig.Stage> enc = new java.util.ArrayList<>(), dec = new java.util.ArrayList<>();
        int[] widths = {8, 16, 16};
        for (int i = 0; i < 3; i++) {
            DcAeConfig.Block b = i < 2 ? DcAeConfig.Block.RES : DcAeConfig.Block.EVIT;
            java.util.List<Integer> scales = i < 2 ? java.util.List.of() : java.util.List.of(3);
            enc.add(new DcAeConfig.Stage(widths[i], 1, b, scales, DcAeConfig.Norm.RMS, DcAeConfig.Act.SILU));
            dec.add(new DcAeConfig.Stage(widths[i], 1, b, scales, DcAeConfig.Norm.RMS, DcAeConfig.Act.SILU));
        }
        return new DcAeConfig(3, 4, 8, enc, dec, true, true, true, true, DcAeConfig.Act.RELU, 1.0);
    }

    @Test
    void aCodecMadeHereSavesAsADiffusersFolderThatLoadsBackTheSame() throws Exception {
        DcAeCodec made = DcAeCodec.create(trainable(), 16, 3);
        INDArray images = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 16, 16);
        made.save(tmp.resolve("codec"), 0.5);
        DcAeCodec back = DcAeCodec.load(tmp.resolve("codec"), 16);
        assertEquals(DcAeCodec.Layout.DIFFUSERS, back.layout());
        assertEquals(trainable().withScalingFactor(0.5), back.config());
        assertEquals(made.encodeLatents(images.mul(2).sub(1)), back.encodeLatents(images.mul(2).sub(1)));
        assertEquals(made.withScaling(0.5).encode(images), back.encode(images));
        INDArray tokens = back.encode(images);
        assertEquals(made.withScaling(0.5).decode(tokens), back.decode(tokens));
        // a model saved elsewhere takes its codec along
        back.copyFolderTo(tmp.resolve("elsewhere"));
        assertEquals(back.encode(images), DcAeCodec.load(tmp.resolve("elsewhere"), 16).encode(images));
    }

    @Test
    void gradientStepsLowerTheReconstructionLoss() {
        DcAeCodec codec = DcAeCodec.create(trainable(), 16, 5);
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(9);
        INDArray images = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 3, 16, 16);
        double first = Double.NaN, last = Double.NaN;
        for (int step = 0; step < 40; step++) {
            var og = codec.reconstruction(images);
            last = og.getOutputs().values().iterator().next().getDouble(0);
            if (step == 0) first = last;
            assertEquals(codec.weights().all().keySet(), og.getGradients().keySet(), "every weight gets a gradient");
            for (var e : og.getGradients().entrySet()) codec.weights().get(e.getKey()).subi(e.getValue().mul(0.05));
        }
        assertTrue(last < 0.6 * first, "40 gradient steps on one batch: loss " + first + " -> " + last);
        // the inference graphs read the same weights, so they see the steps
        INDArray back = codec.decode(codec.encode(images));
        double mse = back.sub(images).norm2Number().doubleValue();
        assertTrue(Double.isFinite(mse));
    }

    @Test
    void aCodecWithBatchNormsIsRefusedForTrainingBeforeAnyWeightIsMade() {
        var e = assertThrows(IllegalArgumentException.class, () -> DcAeCodec.create(DcAeConfig.preset("dc-ae-f32c32-in-1.0"), 256, 0));
        assertTrue(e.getMessage().contains("batch norms"), e.getMessage());
        var size = assertThrows(IllegalArgumentException.class, () -> DcAeCodec.create(trainable(), 10, 0));
        assertTrue(size.getMessage().contains("multiple of the DC-AE's spatial factor 4"), size.getMessage());
    }

    @Test
    void bothLayoutsDescribeTheSameModel() throws Exception {
        for (String model : new String[] {"tiny-a", "tiny-b", "tiny-c"}) {
            assertEquals(DcAeCodec.readConfig(fixture(model).resolve("diffusers")), DcAeCodec.readConfig(fixture(model).resolve("original")), model);
        }
    }

    @Test
    void publishedPresets() {
        DcAeConfig f32 = DcAeConfig.preset("dc-ae-f32c32-in-1.0");
        assertEquals(32, f32.spatialFactor());
        assertEquals(32, f32.latentChannels());
        assertEquals(0.3189, f32.scalingFactor());
        assertEquals(10, f32.decoder().get(2).depth());
        assertEquals(DcAeConfig.Norm.BATCH, f32.decoder().get(0).norm());
        assertEquals(64, DcAeConfig.preset("dc-ae-f64c128-in-1.0").spatialFactor());
        assertEquals(32, DcAeConfig.preset("dc-ae-f32c32-sana-1.0").spatialFactor());
        assertThrows(IllegalArgumentException.class, () -> DcAeConfig.preset("dc-ae-f16"));
    }

    @Test
    void clearErrorsBeforeAnyWork() throws Exception {
        assertThrows(NoSuchFileException.class, () -> DcAeCodec.load(tmp.resolve("absent"), 16));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertTrue(assertThrows(NoSuchFileException.class, () -> DcAeCodec.load(empty, 16)).getMessage().contains("config.json"));
        Files.writeString(empty.resolve("config.json"), "{}");
        assertTrue(assertThrows(NoSuchFileException.class, () -> DcAeCodec.load(empty, 16)).getMessage().contains(DcAeCodec.DIFFUSERS_WEIGHTS));

        Path src = fixture("tiny-a").resolve("diffusers");
        Path bad = copy(src, tmp.resolve("bad-config"));
        Files.writeString(bad.resolve("config.json"), Files.readString(src.resolve("config.json")).replace("\"EfficientViTBlock\"", "\"SwinBlock\""));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DcAeCodec.load(bad, 16)).getMessage().contains("SwinBlock"));
        Files.writeString(bad.resolve("config.json"), "{not json");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DcAeCodec.load(bad, 16)).getMessage().contains("not JSON"));

        assertTrue(assertThrows(IllegalArgumentException.class, () -> DcAeCodec.load(src, 10)).getMessage().contains("spatial factor 4"));

        Path missing = copy(src, tmp.resolve("missing"));
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(src.resolve(DcAeCodec.DIFFUSERS_WEIGHTS))) {
            for (String n : st.names()) if (!n.endsWith("num_batches_tracked") && !n.equals("decoder.norm_out.bias")) tensors.put(n, st.get(n));
        }
        SafeTensors.write(missing.resolve(DcAeCodec.DIFFUSERS_WEIGHTS), tensors, DType.F32, Map.of());
        String message = assertThrows(IllegalArgumentException.class, () -> DcAeCodec.load(missing, 16)).getMessage();
        assertTrue(message.contains("missing tensor decoder.norm_out.bias"), message);

        // the original layout's weights under a diffusers config: every name is wrong, and said so
        Path swapped = copy(src, tmp.resolve("swapped"));
        Files.delete(swapped.resolve(DcAeCodec.DIFFUSERS_WEIGHTS));
        Files.copy(fixture("tiny-a").resolve("original").resolve(DcAeCodec.ORIGINAL_WEIGHTS), swapped.resolve(DcAeCodec.DIFFUSERS_WEIGHTS));
        message = assertThrows(IllegalArgumentException.class, () -> DcAeCodec.load(swapped, 16)).getMessage();
        assertTrue(message.contains("missing tensor encoder.conv_in.conv.weight") && message.contains("more"), message);

        DcAeCodec codec = DcAeCodec.load(src, 16);
        assertThrows(IllegalArgumentException.class, () -> codec.encode(org.nd4j.linalg.factory.Nd4j.rand(1, 3, 8, 8)));
        assertThrows(IllegalArgumentException.class, () -> codec.decode(org.nd4j.linalg.factory.Nd4j.rand(1, 16, 5)));
    }

    private static Path copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double diff = expected.castTo(actual.dataType()).sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= TOLERANCE, what + ": max abs difference " + diff);
    }
}
