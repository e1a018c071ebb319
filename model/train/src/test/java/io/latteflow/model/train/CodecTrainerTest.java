package io.latteflow.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.latent.DcAeCodec;
import io.latteflow.model.latent.DcAeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class CodecTrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** Coloured discs and squares on white, 16x16: what a codec must learn to pass through its bottleneck. */
    private static List<BufferedImage> shapes(int n, long seed) {
        Random r = new Random(seed);
        List<BufferedImage> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, 16, 16);
            g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
            int x = r.nextInt(8), y = r.nextInt(8), s = 4 + r.nextInt(8);
            if (r.nextBoolean()) g.fillOval(x, y, s, s);
            else g.fillRect(x, y, s, s);
            g.dispose();
            out.add(img);
        }
        return out;
    }

    private static DcAeConfig tiny() {
        List<DcAeConfig.Stage> stages = List.of(
                new DcAeConfig.Stage(8, 1, DcAeConfig.Block.RES, List.of(), DcAeConfig.Norm.RMS, DcAeConfig.Act.SILU),
                new DcAeConfig.Stage(16, 1, DcAeConfig.Block.EVIT, List.of(), DcAeConfig.Norm.RMS, DcAeConfig.Act.SILU));
        return new DcAeConfig(3, 4, 8, stages, stages, true, true, true, true, DcAeConfig.Act.RELU, 1.0);
    }

    private CodecTrainer trainer(int steps) {
        return new CodecTrainer(tiny(), 16, shapes(24, 1), shapes(8, 2), new CodecTrainer.Options(steps, 4, 3e-3, 7, 3));
    }

    @Test
    void aResumeWithOtherSettingsThanTheRunsIsRefusedAndChangesNothing() throws Exception {
        PrintWriter log = new PrintWriter(new StringWriter());
        Path dir = tmp.resolve("run");
        assertNull(trainer(6).run(dir, log, 3));
        byte[] weights = Files.readAllBytes(dir.resolve("codec").resolve(DcAeCodec.DIFFUSERS_WEIGHTS));
        String state = Files.readString(dir.resolve("state.json"));
        CodecTrainer other = new CodecTrainer(tiny(), 16, shapes(24, 1), shapes(8, 2), new CodecTrainer.Options(8, 4, 3e-3, 9, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.run(dir, log));
        assertTrue(e.getMessage().contains("steps 6 (not 8)") && e.getMessage().contains("seed 7 (not 9)"), e.getMessage());
        assertArrayEquals(weights, Files.readAllBytes(dir.resolve("codec").resolve(DcAeCodec.DIFFUSERS_WEIGHTS)));
        assertEquals(state, Files.readString(dir.resolve("state.json")));
        assertNotNull(trainer(6).run(dir, log), "the run's own settings still resume it");
        assertEquals(6, losses(dir).size());
    }

    @Test
    void aRunStoppedAtACheckpointAndResumedEndsAsAnUnbrokenRun() throws Exception {
        PrintWriter log = new PrintWriter(new StringWriter());
        JsonNode unbroken = trainer(6).run(tmp.resolve("a"), log);
        assertNull(trainer(6).run(tmp.resolve("b"), log, 3), "stopped after the step-3 checkpoint");
        assertEquals(3, JSON.readTree(tmp.resolve("b/state.json").toFile()).get("step").asInt());
        JsonNode resumed = trainer(6).run(tmp.resolve("b"), log);

        assertArrayEquals(Files.readAllBytes(tmp.resolve("a/codec").resolve(DcAeCodec.DIFFUSERS_WEIGHTS)),
                Files.readAllBytes(tmp.resolve("b/codec").resolve(DcAeCodec.DIFFUSERS_WEIGHTS)));
        assertEquals(unbroken.get("scaling_factor"), resumed.get("scaling_factor"));
        assertEquals(unbroken.get("psnr_held_out"), resumed.get("psnr_held_out"));
        assertEquals(losses(tmp.resolve("a")), losses(tmp.resolve("b")));
        assertEquals(6, losses(tmp.resolve("b")).size());
    }

    @Test
    void theSavedCodecLoadsWithUnitVarianceLatentsAndReconstructsBetterThanUntrained() throws Exception {
        PrintWriter log = new PrintWriter(new StringWriter());
        JsonNode report = trainer(60).run(tmp.resolve("run"), log);
        DcAeCodec codec = DcAeCodec.load(tmp.resolve("run/codec"), 16);
        assertEquals(report.get("scaling_factor").asDouble(), codec.config().scalingFactor(), 1e-12);
        float[] images = new float[8 * 3 * 16 * 16];
        List<BufferedImage> heldOut = shapes(8, 2);
        for (int i = 0; i < 8; i++) {
            System.arraycopy(io.latteflow.model.Images.toArray(heldOut.get(i)).data().asFloat(), 0, images, i * 768, 768);
        }
        double trained = CodecTrainer.psnr(codec, images), untrained = CodecTrainer.psnr(DcAeCodec.create(tiny(), 16, 7), images);
        assertEquals(report.get("psnr_held_out").asDouble(), trained, 1e-9);
        assertTrue(trained > untrained + 3, "held-out PSNR " + untrained + " dB untrained -> " + trained + " dB after 60 steps");
        // scaled tokens of the training images have about unit spread, as the flow-matching model expects
        var tokens = codec.encode(org.nd4j.linalg.factory.Nd4j.create(images, new long[] {8, 3, 16, 16}, 'c'));
        double std = tokens.stdNumber().doubleValue();
        assertTrue(std > 0.5 && std < 2, "token spread " + std);
    }

    private static List<Double> losses(Path run) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) out.add(JSON.readTree(line).get("loss").asDouble());
        return out;
    }
}
