package io.latteflow.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.latteflow.examples.LatteCliTest.latte;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code latte eval fashion} measures a model through the real classifier and data; {@code latte results} renders the report. */
class EvalAndResultsITCase {
    @TempDir
    Path dir;

    @Test
    void evalMeasurementsBecomeTheReportsTablesAndPlots() throws Exception {
        Path model = dir.resolve("model");
        try (LatteFlow untrained = LatteFlow.create(LatteConfig.small(), 1)) {
            untrained.save(model);
        }
        Path results = dir.resolve("results");
        for (int step : new int[]{0, 1}) {
            LatteCliTest.Run r = latte("eval", "fashion", "--model", model.toString(), "--samples", "20", "--steps", "2", "--batch", "10",
                    "--json", results.resolve("m" + step + ".json").toString(), "--tag", "table1=LaTtE Couple", "--tag", "curve=LaTtE",
                    "--tag", "train_step=" + step, "--real");
            assertEquals(0, r.exit(), r.err());
            JsonNode last = new ObjectMapper().readTree(r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
            assertEquals(20, last.path("generated").path("samples").asInt());
            assertEquals(2, last.path("generated").path("steps").asInt());
            assertTrue(last.path("generated").path("fid").asDouble() > last.path("real").path("fid").asDouble());
            assertEquals(String.valueOf(step), last.path("tags").path("train_step").asText());
        }
        Path md = dir.resolve("RESULTS.md");
        LatteCliTest.Run r = latte("results", "--dir", results.toString(), "--out", md.toString());
        assertEquals(0, r.exit(), r.err());
        String report = Files.readString(md);
        assertTrue(report.contains("| LaTtE Couple | 0 |"), report);
        assertTrue(report.contains("| Real training images (ceiling) |"), report);
        assertTrue(report.contains("| step 1 |"), report);
        assertEquals(2, report.lines().filter(l -> l.matches("\\| LaTtE Couple \\| [01] \\|.*\\| 1\\.00 \\|")).count(),
                "each row's time is relative to the LaTtE Couple measured at its own training step:\n" + report);
        BufferedImage plot = ImageIO.read(results.resolve("fig3-fid-vs-training-steps.png").toFile());
        assertEquals(640, plot.getWidth());
    }

    @Test
    void emojiEvalAsksTheRealQuestionsAndDrawsACaptionedGridBesideTheRealEmoji() throws Exception {
        Path model = dir.resolve("model");
        LatteConfig tiny = LatteConfig.tiny();
        try (LatteFlow untrained = LatteFlow.create(tiny, 1)) {
            untrained.save(model);
        }
        Path grid = dir.resolve("grid.png");
        LatteCliTest.Run r = latte("eval", "emoji", "--model", model.toString(), "--split", "train", "--questions", "6",
                "--canvases", "1", "--generate", "0", "--judged", "12", "--grid", grid.toString(), "--cfg", "4.5",
                "--json", dir.resolve("results/emoji.json").toString(), "--tag", "label=tiny untrained");
        assertEquals(0, r.exit(), r.err());
        JsonNode result = new ObjectMapper().readTree(r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals(4.5, result.path("guidance").asDouble(), "the guidance the images were drawn with, for a sweep's rows");
        assertEquals(tiny.defaultSteps(), result.path("steps").asInt());
        JsonNode vqa = result.path("vqa");
        // the emoji judge read 12 images drawn from training captions and 12 from held-out ones, and compared features
        JsonNode judge = result.path("judge");
        assertEquals(12, judge.path("train_captions").path("samples").asInt());
        assertEquals(12, judge.path("held_out_captions").path("samples").asInt());
        int perCategory = 0;
        for (JsonNode c : judge.path("train_captions").path("by_category")) perCategory += c.path("asked").asInt();
        assertEquals(12, perCategory, "each drawn image counted under the category it was asked for: " + judge);
        assertTrue(judge.path("real_training_category_accuracy").asDouble() > 0.9, "the judge knows the real training emoji: " + judge);
        assertTrue(judge.path("fid_drawn_vs_real").isNull() && judge.path("fid_note").asText().contains("more than 256 images"),
                "FID is left out for 12 images of 256 features: " + judge);
        assertEquals(6 + 2 * 3, vqa.path("asked").asInt(), "6 single-emoji questions and 3 per canvas in each of 2 styles");
        BufferedImage sheet = ImageIO.read(grid.toFile());
        int cell = tiny.genImageSize() * 3;
        assertEquals(12 * (cell + 2) + 2, sheet.getHeight(), "12 emoji, one row each");
        assertTrue(sheet.getWidth() > 7 * (cell + 2), "a caption, the real emoji and 6 samples per row");
        LatteCliTest.Run report = latte("results", "--dir", dir.resolve("results").toString(), "--out", dir.resolve("RESULTS.md").toString());
        assertEquals(0, report.exit(), report.err());
        assertTrue(Files.readString(dir.resolve("RESULTS.md")).contains("| tiny untrained | " + tiny.defaultSteps() + ", 4.5 |"),
                "the judge's row says how its images were drawn: " + Files.readString(dir.resolve("RESULTS.md")));
    }

    @Test
    void codecEvalMeasuresPsnrAndTheJudgeOnReconstructionsOfTheHeldOutEmoji() throws Exception {
        Path codec = dir.resolve("codec");
        io.latteflow.model.latent.DcAeCodec.create(LatteCliTest.tinyCodec(), 64, 3).save(codec, 1.0);
        LatteCliTest.Run r = latte("eval", "codec", codec.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode result = new ObjectMapper().readTree(r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertTrue(result.path("images").asInt() > 700, "both styles' held-out emoji: " + result);
        JsonNode row = result.path("codecs").get(0);
        assertEquals(2, row.path("spatial_factor").asInt());
        double psnr = row.path("psnr_db").asDouble();
        assertTrue(psnr > 0 && psnr < 20, "an untrained codec reconstructs badly: " + psnr + " dB");
        assertTrue(row.path("judge_category_accuracy").asDouble() < result.path("judge_real_category_accuracy").asDouble(), result.toString());
        LatteCliTest.Run bad = latte("eval", "codec", dir.resolve("none").toString());
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("Cannot load the codec in"), bad.err());
    }

    @Test
    void badEvalAndResultsArgumentsAreOneLineErrors() {
        LatteCliTest.Run missing = latte("eval", "fashion", "--model", dir.resolve("nope").toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("No model at"), missing.err());
        LatteCliTest.Run split = latte("eval", "emoji", "--model", dir.toString(), "--split", "validation");
        assertEquals(2, split.exit());
        assertTrue(split.err().contains("--split must be held-out or train"), split.err());
        LatteCliTest.Run results = latte("results", "--dir", dir.resolve("none").toString());
        assertEquals(2, results.exit());
        assertTrue(results.err().contains("No measurements at"), results.err());
    }
}
