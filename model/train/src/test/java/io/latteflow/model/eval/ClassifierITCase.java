package io.latteflow.model.eval;

import io.latteflow.model.Images;
import io.latteflow.model.data.FashionMnist;
import io.latteflow.model.data.TestData;
import io.latteflow.model.data.LabeledImages;
import io.latteflow.model.data.Mnist;
import io.latteflow.model.data.Split;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped checkpoint, models/fashion-classifier, against the real Fashion-MNIST test set. */
class ClassifierITCase {
    private static Classifier classifier;
    private static LabeledImages test;
    private static INDArray probs;

    @BeforeAll
    static void load() throws IOException {
        classifier = Classifier.load(TestData.repoRoot().resolve("models/fashion-classifier"));
        test = FashionMnist.load(TestData.dataRoot(), Split.TEST);
        probs = classifier.predict(test.toArray(0, test.size()));     // the one full pass most tests share
    }

    @Test
    void shippedCheckpointScoresWhatItReported() {
        ClassifierConfig.Report report = classifier.config().report().orElseThrow();
        assertEquals("fashion-mnist", report.dataset());
        assertEquals(FashionMnist.CLASS_NAMES, classifier.config().classNames());
        double accuracy = ClassAccuracy.of(probs, test.labels());
        System.out.printf("shipped classifier: test accuracy %.4f, reported %.4f%n", accuracy, report.testAccuracy());
        // Same weights (saved as F32) and same batches, so equal on this machine; 0.001 (10 images) allows another CPU's kernels.
        assertEquals(report.testAccuracy(), accuracy, 0.001);
        assertTrue(accuracy >= 0.85, "test accuracy " + accuracy);
    }

    @Test
    void classAccuracyOnTheImagesEqualsTheTestAccuracy() {
        // Through BufferedImages (TYPE_INT_RGB) and CaptionedImage labels: the conversion must be exact.
        double viaImages = ClassAccuracy.of(classifier, test.captioned());
        assertEquals(ClassAccuracy.of(probs, test.labels()), viaImages, 0);
    }

    @Test
    void probabilitiesAndFeatures() {
        assertArrayEquals(new long[]{10000, 10}, probs.shape());
        INDArray sums = probs.sum(1);
        for (int i = 0; i < 10000; i += 997) assertEquals(1, sums.getDouble(i), 1e-4);
        INDArray f = classifier.features(test.toArray(0, 5));
        assertArrayEquals(new long[]{5, classifier.featureSize()}, f.shape());
        assertTrue(f.minNumber().doubleValue() >= 0, "features are post-ReLU");
        double is = InceptionScore.score(probs);
        assertTrue(is > 7 && is <= 10, "IS of the real test set " + is);
        double[] perClass = ClassAccuracy.perClass(probs, test.labels());
        assertTrue(perClass[1] > 0.9 && perClass[6] < perClass[1], java.util.Arrays.toString(perClass)); // trousers easy, shirts hard
    }

    @Test
    void scoresGenerated32x32RgbImages() {
        List<BufferedImage> big = new ArrayList<>();
        for (int i = 0; i < 1000; i++) big.add(Images.resize(test.image(i), 32));     // what the generator draws
        int[] labels = IntStream.range(0, 1000).map(test::label).toArray();
        double accuracy = ClassAccuracy.of(classifier, big, labels);
        assertTrue(accuracy > 0.8, "accuracy on 32x32 RGB copies " + accuracy);
    }

    @Test
    void fidSeparatesDataSets() {
        INDArray a = classifier.features(test.toArray(0, 2000)), b = classifier.features(test.toArray(2000, 4000));
        INDArray digits = classifier.features(Mnist.load(TestData.dataRoot(), Split.TEST).toArray(0, 2000));
        double same = Fid.distance(a, b), other = Fid.distance(a, digits);
        assertTrue(same * 10 < other, "FID fashion/fashion " + same + " vs fashion/digits " + other);
    }

    @Test
    void saveLoadRoundTrip(@TempDir Path dir) throws IOException {
        Classifier fresh = Classifier.create(ClassifierConfig.small(FashionMnist.CLASS_NAMES), 3);
        fresh.save(dir);
        assertTrue(Files.size(dir.resolve("model.safetensors")) < 2_000_000);
        Classifier back = Classifier.load(dir);
        INDArray x = test.toArray(0, 8);
        assertEquals(fresh.predict(x), back.predict(x));
        assertTrue(back.config().report().isEmpty());
        assertThrows(IOException.class, () -> Classifier.load(dir.resolve("nope")));
    }

    @Test
    void anRgbClassifierLearnsColoursSavesAndReadsImagesOfAnySize(@TempDir Path dir) throws IOException {
        // red, green and blue discs on white: a gray classifier could not tell red from green (similar luma)
        java.util.List<String> names = java.util.List.of("red", "green", "blue");
        java.awt.Color[] colours = {new java.awt.Color(220, 30, 30), new java.awt.Color(30, 140, 30), new java.awt.Color(30, 30, 220)};
        java.util.Random r = new java.util.Random(4);
        java.util.List<java.awt.image.BufferedImage> images = new java.util.ArrayList<>();
        int[] labels = new int[96];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % 3;
            var img = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_ARGB);   // transparent: read over white
            var g = img.createGraphics();
            g.setColor(colours[labels[i]]);
            int x = r.nextInt(6), y = r.nextInt(6);
            g.fillOval(x, y, 8 + r.nextInt(3), 8 + r.nextInt(3));
            g.dispose();
            images.add(img);
        }
        Classifier c = Classifier.create(new ClassifierConfig(16, 3, 8, 8, 8, 16, names, java.util.Optional.empty()), 1);
        float[] x = ClassifierInput.toArray(images, 16, 3).data().asFloat();
        c.train(x, labels, 30, 16, 3e-3, 1, true, null);
        double learnt = ClassAccuracy.of(c, images, labels);
        assertTrue(learnt > 0.95, "colours are learnt: " + learnt);
        c.save(dir);
        Classifier back = Classifier.load(dir);
        assertEquals(3, back.config().channels());
        // a 32x32 copy of each image reads as the 16x16 one: inputs are area-averaged to the classifier's side
        java.util.List<java.awt.image.BufferedImage> big = images.stream().map(i -> io.latteflow.model.Images.resize(i, 32)).toList();
        assertEquals(ClassAccuracy.of(back, images, labels), ClassAccuracy.of(back, big, labels), 0.05);
        assertThrows(IllegalArgumentException.class, () -> back.predict(test.toArray(0, 2)), "gray (n, 1, 28, 28) input to an RGB 16x16 model");
    }

    @Test
    void configKeepsItsReport(@TempDir Path dir) throws IOException {
        ClassifierConfig c = ClassifierConfig.small(FashionMnist.CLASS_NAMES)
                .withReport(new ClassifierConfig.Report("fashion-mnist", 60000, 3, 128, 1e-3, 42, 123.5, 0.9));
        c.write(dir.resolve("config.json"));
        assertEquals(c, ClassifierConfig.read(dir.resolve("config.json")));
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"test_accuracy\""));
        Files.writeString(dir.resolve("other.json"), "{\"format\": \"something-else\"}");
        assertThrows(IOException.class, () -> ClassifierConfig.read(dir.resolve("other.json")));
    }
}
