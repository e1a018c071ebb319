package io.latteflow.model;

import io.latteflow.model.data.Emoji;
import io.latteflow.model.data.EmojiCaptions;
import io.latteflow.model.data.EmojiQuestions;
import io.latteflow.model.data.EmojiSet;
import io.latteflow.model.data.VqaSample;
import io.latteflow.model.eval.ClassAccuracy;
import io.latteflow.model.eval.Classifier;
import io.latteflow.model.eval.VqaAccuracy;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped models load and do what was asked: the Fashion model's trousers are trousers to the classifier; the
 * emoji model names the emoji it learned, tells flags and categories, and draws what the emoji judge reads as the
 * asked category (a grinning face yellow); the judge and the codec measure what their reports say.
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

    /** Issue 20: the emoji models together (the model with its codec, and the judge) stay small enough to ship in git. */
    @Test
    void theEmojiModelCarriesTheShippedCodecAndTheEmojiModelsTogetherStayUnder40Mb() throws Exception {
        Path dir = MODELS.resolve("latte-emoji"), codec = Path.of("codec", "diffusion_pytorch_model.safetensors");
        assertEquals(-1, Files.mismatch(dir.resolve(codec), MODELS.resolve("dc-ae-emoji-f8c16").resolve(codec.getFileName())),
                "models/latte-emoji/codec is the shipped dc-ae-emoji-f8c16 (git stores the file once)");
        long bytes = folderBytes(dir) + folderBytes(MODELS.resolve("emoji-judge"));
        assertTrue(bytes < 40_000_000, "the emoji model, its codec and the judge: " + bytes + " bytes");
    }

    /**
     * Issue 20's targets, on samples of them: the emoji model names the training emoji and tells flags and categories,
     * and the judge (trained on real emoji only) reads the asked category off what it draws from training captions.
     */
    @Test
    void theEmojiModelNamesTrainingEmojiAndDrawsWhatTheJudgeReadsAsTheAskedCategory() throws Exception {
        Path root = io.latteflow.model.data.DataRoot.resolve().dir();
        List<Emoji> train = EmojiSet.split(root, EmojiSet.STYLES, false);
        try (LatteFlow flow = LatteFlow.load(MODELS.resolve("latte-emoji"))) {
            EmojiQuestions asker = new EmojiQuestions(1, flow.config().imageSize());
            List<VqaSample> asked = new ArrayList<>();
            for (Emoji e : everyKth(train, 60)) {
                for (VqaSample q : asker.about(e)) {
                    if (List.of(EmojiQuestions.NAME, EmojiQuestions.FLAG, EmojiQuestions.CATEGORY).contains(q.type())) asked.add(q);
                }
            }
            VqaAccuracy.Result r = VqaAccuracy.of(flow, asked, 30, n -> { });
            assertTrue(r.byType().get(EmojiQuestions.NAME).accuracy() >= 0.6, "what is this? " + r.byType().get(EmojiQuestions.NAME));
            assertTrue(r.byType().get(EmojiQuestions.FLAG).accuracy() >= 0.9, "is it a flag? " + r.byType().get(EmojiQuestions.FLAG));
            assertTrue(r.byType().get(EmojiQuestions.CATEGORY).accuracy() >= 0.7, "which category? " + r.byType().get(EmojiQuestions.CATEGORY));

            List<Emoji> drawnFrom = everyKth(train, 48);
            EmojiCaptions captions = new EmojiCaptions(0, true);
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < drawnFrom.size(); i++) requests.add(GenerationRequest.of(captions.caption(drawnFrom.get(i))).withSeed(i));
            List<BufferedImage> drawn = new ArrayList<>();
            for (GeneratedImage g : flow.generate(requests)) drawn.add(g.image());
            double read = ClassAccuracy.of(Classifier.load(MODELS.resolve("emoji-judge")), drawn,
                    drawnFrom.stream().mapToInt(Emoji::categoryIndex).toArray());
            assertTrue(read >= 0.6, "the judge reads the asked category off " + read + " of 48 drawn images");
        }
    }

    @Test
    void theEmojiModelAnswersFlagAndCategoryQuestionsAndDrawsAGrinningFaceYellow() throws Exception {
        try (LatteFlow flow = LatteFlow.load(MODELS.resolve("latte-emoji"))) {
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

    private static long folderBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            long sum = 0;
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) sum += Files.size(f);
            return sum;
        }
    }

    /** n items spread evenly over the list, as 'latte eval emoji' picks them. */
    private static <T> List<T> everyKth(List<T> all, int n) {
        List<T> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(all.get((int) ((long) i * all.size() / n)));
        return out;
    }
}
