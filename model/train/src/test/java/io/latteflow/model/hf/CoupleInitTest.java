package io.latteflow.model.hf;

import io.latteflow.model.io.DType;
import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.Variant;
import io.latteflow.model.VqaRequest;
import io.latteflow.model.data.CaptionedImage;
import io.latteflow.model.nn.ParamStore;
import io.latteflow.model.train.GroupSampling;
import io.latteflow.model.train.TrainingRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A LaTtE-Flow model made from a Hugging Face Qwen2-VL folder, as the paper initialises its Couple. */
class CoupleInitTest {
    private static Path folder(String name) throws Exception {
        // The fixtures live with latteflow-model (model/core); this module's tests run in model/train.
        return Path.of("../core/src/test/resources/fixtures/qwen2vl-folders", name).toAbsolutePath().normalize();
    }

    @Test
    void theCoupleKeepsTheVlmCopiesItIntoTheGenerationLayersAndStillAnswersAsTheVlm(@TempDir Path tmp) throws Exception {
        Path vlm = folder("untied-f32"), out = tmp.resolve("couple");
        CoupleInit.write(vlm, out, new CoupleInit.Settings(Variant.COUPLE, 2, true, 16, 4, 0), DType.F32);
        BufferedImage image = ImageIO.read(vlm.resolveSibling("odd.png").toFile());
        try (LatteFlow original = LatteFlow.load(vlm); LatteFlow couple = LatteFlow.load(out)) {
            assertTrue(couple.canGenerate() && couple.chat() != null, "draws, and answers through the chat template");
            ParamStore p = couple.model().params(), o = original.model().params();
            for (Map.Entry<String, INDArray> e : o.all().entrySet()) assertEquals(e.getValue(), p.get(e.getKey()), e.getKey() + " kept");
            for (int l = 0; l < couple.config().numLayers(); l++) {
                for (String w : List.of("input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.bias", "mlp.down_proj.weight")) {
                    assertEquals(p.get("model.layers." + l + "." + w), p.get("gen.layers." + l + "." + w), "gen layer " + l + " " + w);
                }
            }
            VqaRequest q = VqaRequest.of(image, "What colour is it?").withMaxNewTokens(8);
            assertEquals(original.answer(q), couple.answer(q));
            GeneratedImage drawn = couple.generate(GenerationRequest.of("a red square").withSteps(2).withSeed(1));
            assertEquals(16, drawn.image().getWidth());
        }
    }

    @Test
    void generationTrainingContinuesFromItAndLeavesTheVlmFrozen(@TempDir Path tmp) throws Exception {
        Path init = tmp.resolve("init"), run = tmp.resolve("run");
        CoupleInit.write(folder("tied-bf16-sharded"), init, new CoupleInit.Settings(Variant.COUPLE, 2, true, 16, 4, 3), DType.F32);
        INDArray vlmBefore, genBefore;
        try (LatteFlow flow = LatteFlow.load(init)) {
            vlmBefore = flow.model().params().get("model.layers.1.mlp.up_proj.weight").dup();
            genBefore = flow.model().params().get("gen.layers.1.mlp.up_proj.weight").dup();
            TrainingRun.Plan plan = new TrainingRun.Plan(0, 3, 2, 1e-3, 5, 2, 0.9, 0, GroupSampling.PER_SAMPLE);
            TrainingRun.start(run, flow, plan, "squares").train(List.of(), squares(), (s, step, total, loss, g, sec) ->
                    assertTrue(Double.isFinite(loss), "loss at step " + step));
        }
        try (LatteFlow trained = LatteFlow.load(run)) {
            assertTrue(trained.chat() != null, "the trained model keeps the chat files");
            assertEquals(vlmBefore, trained.model().params().get("model.layers.1.mlp.up_proj.weight"), "VLM frozen");
            assertTrue(!genBefore.equals(trained.model().params().get("gen.layers.1.mlp.up_proj.weight")), "generation layers trained");
        }
    }

    @Test
    void groupsThatDoNotDivideTheLayersAreRefusedBeforeAnyWeightIsRead(@TempDir Path tmp) throws Exception {
        String m = assertThrows(IllegalArgumentException.class, () -> CoupleInit.write(folder("untied-f32"), tmp.resolve("x"),
                new CoupleInit.Settings(Variant.COUPLE, 3, true, 16, 4, 0), DType.F32)).getMessage();
        assertTrue(m.contains("--groups 3 must divide the VLM's 2 layers"), m);
        assertTrue(!tmp.resolve("x").toFile().exists(), "nothing written");
    }

    private static List<CaptionedImage> squares() {
        List<CaptionedImage> out = new ArrayList<>();
        Color[] colors = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW};
        String[] names = {"red", "green", "blue", "yellow"};
        for (int i = 0; i < colors.length; i++) {
            BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setColor(colors[i]);
            g.fillRect(4, 4, 8, 8);
            g.dispose();
            out.add(new CaptionedImage(names[i] + " square", img, i));
        }
        return out;
    }
}
