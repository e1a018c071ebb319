package io.latteflow.model;

import io.latteflow.model.data.Emoji;
import io.latteflow.model.data.EmojiQuestions;
import io.latteflow.model.data.EmojiSet;
import io.latteflow.model.data.VqaSample;
import io.latteflow.model.eval.Classifier;
import io.latteflow.model.eval.VqaAccuracy;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped models load and do what was asked: the Fashion model's trousers are trousers to the classifier; the
 * emoji model tells flags and categories of the emoji it learned, and draws a grinning face yellow.
 */
class ShippedModelsITCase {
    static final Path MODELS = Path.of("..", "..", "models");

    @Test
    void theFashionModelDrawsTrousersTheClassifierCallsTrousers() throws Exception {
        Path dir = MODELS.resolve("latte-fashion");
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")), "models/latte-fashion is shipped");
        assertTrue(Files.size(dir.resolve("model.safetensors")) < 15_000_000, "at most 15 MB");
        Classifier classifier = Classifier.load(MODELS.resolve("fashion-classifier"));
        int trouser = classifier.config().classNames().indexOf("trouser");
        try (LatteFlow flow = LatteFlow.load(dir)) {
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < 8; i++) requests.add(GenerationRequest.of(io.latteflow.model.data.FashionMnist.CAPTIONS.get(trouser)).withSeed(i));
            List<BufferedImage> images = new ArrayList<>();
            for (GeneratedImage g : flow.generate(requests)) images.add(g.image());
            INDArray p = classifier.predict(images);                                 // (8, classes)
            int hits = 0;
            for (int i = 0; i < images.size(); i++) if (p.getRow(i).argMax().getInt(0) == trouser) hits++;
            assertTrue(hits >= 6, "trousers recognised in " + hits + " of 8");
        }
    }

    @Test
    void theEmojiJudgeReadsTheCategoryOfEmojiItNeverSawAsItsConfigSays() throws Exception {
        Classifier judge = Classifier.load(MODELS.resolve("emoji-judge"));
        List<BufferedImage> images = new ArrayList<>();
        List<Integer> wanted = new ArrayList<>();
        for (String style : EmojiSet.STYLES) {
            for (Emoji e : EmojiSet.load(style).heldOut()) {
                images.add(e.image(64));
                wanted.add(EmojiSet.categoryIndex(e.category()));
            }
        }
        double accuracy = io.latteflow.model.eval.ClassAccuracy.of(judge, images, wanted.stream().mapToInt(Integer::intValue).toArray());
        double recorded = judge.config().report().orElseThrow().testAccuracy();
        assertTrue(Math.abs(accuracy - recorded) < 0.005, "held-out accuracy " + accuracy + " against the recorded " + recorded);
        assertTrue(accuracy >= 0.75, "held-out category accuracy " + accuracy);
    }

    /** Issue 20: the small DC-AE the emoji model draws in reconstructs emoji it never saw as well as its report says. */
    @Test
    void theEmojiCodecReconstructsHeldOutEmojiAsItsReportSays() throws Exception {
        Path dir = MODELS.resolve("dc-ae-emoji-f8c16");
        try (io.latteflow.model.latent.DcAeCodec codec = io.latteflow.model.latent.DcAeCodec.load(dir, 64)) {
            List<Emoji> heldOut = EmojiSet.split(io.latteflow.model.data.DataRoot.resolve().dir(), EmojiSet.STYLES, true);
            int per = 3 * 64 * 64;
            float[] pixels = new float[heldOut.size() * per];
            for (int i = 0; i < heldOut.size(); i++) {
                System.arraycopy(io.latteflow.model.Images.toArray(heldOut.get(i).image(64)).data().asFloat(), 0, pixels, i * per, per);
            }
            double psnr = io.latteflow.model.train.CodecTrainer.psnr(codec, pixels);
            double recorded = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("report.json").toFile()).get("psnr_held_out").asDouble();
            assertTrue(Math.abs(psnr - recorded) < 0.05, "held-out PSNR " + psnr + " dB against the recorded " + recorded);
            assertTrue(psnr > 27, "held-out PSNR " + psnr + " dB");
        }
    }

    @Test
    void theEmojiModelAnswersFlagAndCategoryQuestionsAndDrawsAGrinningFaceYellow() throws Exception {
        Path dir = MODELS.resolve("latte-emoji");
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")), "models/latte-emoji is shipped");
        assertTrue(Files.size(dir.resolve("model.safetensors")) < 40_000_000, "at most 40 MB");
        try (LatteFlow flow = LatteFlow.load(dir)) {
            EmojiQuestions asker = new EmojiQuestions(1, flow.config().imageSize());
            List<Emoji> train = EmojiSet.load("google").train();
            List<VqaSample> asked = new ArrayList<>();
            for (int i = 0; i < train.size(); i += train.size() / 60) {
                for (VqaSample q : asker.about(train.get(i))) {
                    if (q.type().equals(EmojiQuestions.FLAG) || q.type().equals(EmojiQuestions.CATEGORY)) asked.add(q);
                }
            }
            VqaAccuracy.Result r = VqaAccuracy.of(flow, asked, 30, n -> { });
            assertTrue(r.byType().get(EmojiQuestions.FLAG).accuracy() >= 0.9, "is it a flag? " + r.byType().get(EmojiQuestions.FLAG));
            assertTrue(r.byType().get(EmojiQuestions.CATEGORY).accuracy() >= 0.6, "which category? " + r.byType().get(EmojiQuestions.CATEGORY));

            List<GenerationRequest> faces = new ArrayList<>();
            for (int i = 0; i < 4; i++) faces.add(GenerationRequest.of("grinning face, google style").withSeed(i));
            double[] rgb = new double[3];
            int n = 0;
            for (GeneratedImage g : flow.generate(faces)) {
                BufferedImage img = g.image();
                int c = img.getWidth() / 2, half = img.getWidth() / 4;                 // the centre half, where the face is
                for (int y = c - half; y < c + half; y++) {
                    for (int x = c - half; x < c + half; x++) {
                        int p = img.getRGB(x, y);
                        rgb[0] += (p >> 16 & 255) / 255.0;
                        rgb[1] += (p >> 8 & 255) / 255.0;
                        rgb[2] += (p & 255) / 255.0;
                        n++;
                    }
                }
            }
            double red = rgb[0] / n, green = rgb[1] / n, blue = rgb[2] / n;
            assertTrue(red > blue + 0.3 && green > blue + 0.2, String.format("a grinning face is yellow: mean r %.2f g %.2f b %.2f", red, green, blue));
        }
    }
}
