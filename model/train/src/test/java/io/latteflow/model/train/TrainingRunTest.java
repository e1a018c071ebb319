package io.latteflow.model.train;

import io.latteflow.model.io.DType;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.data.CaptionedImage;
import io.latteflow.model.data.VqaSample;
import io.latteflow.model.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingRunTest {
    private static final String[] COLORS = {"red", "green", "blue", "yellow"};
    private static final Color[] RGB = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW};
    private static final TrainingRun.Plan PLAN = new TrainingRun.Plan(3, 7, 2, 1e-3, 5, 2, 0.9, 0, GroupSampling.PER_SAMPLE);

    /** Stops the run after a given generation step, as a kill would (the step's log line is already written). */
    private static final class Kill extends RuntimeException {
    }

    @Test
    void aRunResumedAfterAnInterruptionEndsBitForBitLikeAnUnbrokenRun(@TempDir Path tmp) throws Exception {
        Path straight = tmp.resolve("straight"), broken = tmp.resolve("broken");
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 3)) {
            TrainingRun.start(straight, flow, PLAN, "squares").train(vqa(), images(), (s, step, total, loss, g, sec) -> { });
        }
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 3)) {
            TrainingRun run = TrainingRun.start(broken, flow, PLAN, "squares");
            trainUntilKilledAfter(run, 5);
        }
        assertTrue(Files.exists(broken.resolve(TrainingRun.CHECKPOINT)), "checkpoint written every 2 steps");
        TrainingRun resumed = TrainingRun.resume(broken, PLAN, "squares");
        List<Integer> replayed = new ArrayList<>();
        resumed.train(vqa(), images(), (s, step, total, loss, g, sec) -> replayed.add(step));
        resumed.flow().close();

        assertEquals(List.of(5, 6, 7), replayed, "resumes after the step-4 checkpoint, losing only step 5");
        assertSameTensors(straight.resolve("model.safetensors"), broken.resolve("model.safetensors"));
        assertEquals(withoutTimes(straight.resolve(TrainingRun.METRICS)), withoutTimes(broken.resolve(TrainingRun.METRICS)));
        assertFalse(Files.exists(broken.resolve(TrainingRun.CHECKPOINT)), "checkpoint removed after the run");
        assertTrue(Files.exists(broken.resolve(TrainingRun.SUMMARY)));
        TrainingRun.Plan longer = new TrainingRun.Plan(3, 9, 2, 1e-3, 5, 2, 0.9, 0, GroupSampling.PER_SAMPLE);
        IOException finished = assertThrows(IOException.class, () -> TrainingRun.resume(broken, longer, "squares"));
        assertTrue(finished.getMessage().contains("the run has finished") && finished.getMessage().contains("--init " + broken),
                finished.getMessage());
    }

    @Test
    void generationLayersStartAsCopiesOfTheVlmThatTheUnderstandingStageTrained(@TempDir Path tmp) throws Exception {
        assertGenerationLayersCopyTheTrainedVlm(LatteConfig.tiny(), tmp);
    }

    /** Blend shares the VLM's attention; its own norms and MLP must also start from the trained VLM (issue 16). */
    @Test
    void blendsModalitySpecificWeightsStartAsCopiesOfTheTrainedVlm(@TempDir Path tmp) throws Exception {
        LatteConfig blend = LatteConfig.tiny().toBuilder().variant(io.latteflow.model.Variant.BLEND).build();
        int copied = assertGenerationLayersCopyTheTrainedVlm(blend, tmp);
        assertTrue(copied > 0, "Blend has copied generation weights");
    }

    /** Trains the understanding stage only; returns how many gen.layers tensors were checked as copies. */
    private static int assertGenerationLayersCopyTheTrainedVlm(LatteConfig config, Path tmp) throws Exception {
        TrainingRun.Plan understandingOnly = new TrainingRun.Plan(3, 0, 2, 1e-3, 5, 2, 0.9, 0, GroupSampling.PER_SAMPLE);
        INDArray untrained;
        int checked = 0;
        try (LatteFlow flow = LatteFlow.create(config, 3)) {
            untrained = flow.model().params().get("model.layers.1.mlp.up_proj.weight").dup();
            TrainingRun.start(tmp, flow, understandingOnly, "squares").train(vqa(), images(), (s, step, total, loss, g, sec) -> { });
        }
        try (SafeTensors st = SafeTensors.open(tmp.resolve("model.safetensors"))) {
            assertFalse(untrained.equalsWithEps(st.get("model.layers.1.mlp.up_proj.weight"), 1e-6), "the understanding stage trained the VLM");
            for (String name : st.names()) {
                if (!name.startsWith("gen.layers.") || name.contains("adaLN") || name.contains("residual_gate")) continue;
                String vlm = name.replace("gen.layers.", "model.layers.");
                assertEquals(st.get(vlm), st.get(name), name + " is a copy of the trained " + vlm);
                checked++;
            }
        }
        return checked;
    }

    @Test
    void anExportedCheckpointIsTheModelARunEndingAtThatStepSaves(@TempDir Path tmp) throws Exception {
        Path shorter = tmp.resolve("four-steps"), running = tmp.resolve("running"), export = tmp.resolve("export");
        TrainingRun.Plan four = new TrainingRun.Plan(3, 4, 2, 1e-3, 5, 2, 0.9, 0, GroupSampling.PER_SAMPLE);
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 3)) {
            TrainingRun.start(shorter, flow, four, "squares").train(vqa(), images(), (s, step, total, loss, g, sec) -> { });
        }
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 3)) {
            TrainingRun run = TrainingRun.start(running, flow, PLAN, "squares");
            trainUntilKilledAfter(run, 5);
        }
        TrainingRun.CheckpointInfo at = TrainingRun.exportCheckpoint(running, export, DType.F32);

        assertEquals(new TrainingRun.CheckpointInfo(TrainingRun.Stage.GENERATION, 4), at);
        assertSameTensors(shorter.resolve("model.safetensors"), export.resolve("model.safetensors"));
        IOException none = assertThrows(IOException.class, () -> TrainingRun.exportCheckpoint(shorter, tmp.resolve("x"), DType.F32));
        assertTrue(none.getMessage().contains("No checkpoint"), none.getMessage());
    }

    @Test
    void resumingWithOtherSettingsOrDataIsRefusedWithTheReason(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 3)) {
            TrainingRun run = TrainingRun.start(dir, flow, PLAN, "squares");
            trainUntilKilledAfter(run, 3);
            IOException again = assertThrows(IOException.class, () -> TrainingRun.start(dir, flow, PLAN, "squares"));
            assertTrue(again.getMessage().contains("already holds a training run"), again.getMessage());
        }
        TrainingRun.Plan otherSeed = new TrainingRun.Plan(3, 7, 2, 1e-3, 6, 2, 0.9, 0, GroupSampling.PER_SAMPLE);
        IOException seed = assertThrows(IOException.class, () -> TrainingRun.resume(dir, otherSeed, "squares"));
        assertTrue(seed.getMessage().contains("seed=5"), seed.getMessage());
        IOException data = assertThrows(IOException.class, () -> TrainingRun.resume(dir, PLAN, "circles"));
        assertTrue(data.getMessage().contains("'squares'"), data.getMessage());
        IOException none = assertThrows(IOException.class, () -> TrainingRun.resume(tmp.resolve("empty"), PLAN, "squares"));
        assertTrue(none.getMessage().contains("no training run"), none.getMessage());
    }

    /** Trains until generation step {@code step} is logged, then stops as a kill would. */
    private static void trainUntilKilledAfter(TrainingRun run, int step) {
        assertThrows(Kill.class, () -> run.train(vqa(), images(), (s, done, total, loss, g, sec) -> {
            if (s == TrainingRun.Stage.GENERATION && done == step) throw new Kill();
        }));
    }

    private static List<CaptionedImage> images() {
        List<CaptionedImage> out = new ArrayList<>();
        for (int i = 0; i < COLORS.length; i++) out.add(new CaptionedImage(COLORS[i] + " square", square(RGB[i]), i));
        return out;
    }

    private static List<VqaSample> vqa() {
        List<VqaSample> out = new ArrayList<>();
        for (int i = 0; i < COLORS.length; i++) out.add(new VqaSample(square(RGB[i]), "what is this?", COLORS[i] + " square", "name"));
        return out;
    }

    private static BufferedImage square(Color color) {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 16, 16);
        g.setColor(color);
        g.fillRect(4, 4, 8, 8);
        g.dispose();
        return img;
    }

    private static void assertSameTensors(Path a, Path b) throws IOException {
        try (SafeTensors x = SafeTensors.open(a); SafeTensors y = SafeTensors.open(b)) {
            assertEquals(x.names(), y.names());
            for (String n : x.names()) {
                INDArray p = x.get(n), q = y.get(n);
                assertTrue(Arrays.equals(p.data().asFloat(), q.data().asFloat()), "tensor " + n + " differs");
            }
        }
    }

    private static List<String> withoutTimes(Path metrics) throws IOException {
        return Files.readAllLines(metrics, StandardCharsets.UTF_8).stream().map(l -> l.replaceAll(",\"seconds\":[0-9.Ee-]+", "")).toList();
    }
}
