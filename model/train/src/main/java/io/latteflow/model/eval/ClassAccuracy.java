package io.latteflow.model.eval;

import io.latteflow.model.data.CaptionedImage;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * The fraction of generated images that a classifier assigns to the class they were asked for (the class of the
 * caption). Ties in the probabilities go to the lowest class index.
 *
 * <pre>{@code
 * // images generated from "a photo of a sneaker" (class 7) etc.:
 * double acc = ClassAccuracy.of(classifier, images, requestedClasses);
 * double acc2 = ClassAccuracy.of(classifier, List.of(new CaptionedImage("a photo of a sneaker", img, 7)));
 * double[] perClass = ClassAccuracy.perClass(classifier.predict(images), requestedClasses);
 * }</pre>
 */
public final class ClassAccuracy {
    private ClassAccuracy() {
    }

    /** Accuracy of (n, classes) probabilities against the requested class of each row. */
    public static double of(INDArray probabilities, int[] requested) {
        int[] predicted = predicted(probabilities, requested);
        int correct = 0;
        for (int i = 0; i < requested.length; i++) if (predicted[i] == requested[i]) correct++;
        return requested.length == 0 ? Double.NaN : (double) correct / requested.length;
    }

    /** Accuracy of a classifier on images, each asked for {@code requested[i]}. */
    public static double of(Classifier classifier, List<BufferedImage> images, int[] requested) {
        if (images.size() != requested.length) throw new IllegalArgumentException(images.size() + " images but " + requested.length + " requested classes");
        return of(classifier.predict(images), requested);
    }

    /** Accuracy on captioned images, whose {@link CaptionedImage#label()} is the class asked for. */
    public static double of(Classifier classifier, List<CaptionedImage> generated) {
        int[] requested = generated.stream().mapToInt(CaptionedImage::label).toArray();
        for (int i = 0; i < requested.length; i++) {
            if (requested[i] < 0) throw new IllegalArgumentException("image " + i + " (\"" + generated.get(i).caption() + "\") has no class label");
        }
        return of(classifier, generated.stream().map(CaptionedImage::image).toList(), requested);
    }

    /** Accuracy per requested class (NaN for a class never requested). */
    public static double[] perClass(INDArray probabilities, int[] requested) {
        int k = (int) probabilities.size(1);
        int[] predicted = predicted(probabilities, requested);
        int[] asked = new int[k], correct = new int[k];
        for (int i = 0; i < requested.length; i++) {
            asked[requested[i]]++;
            if (predicted[i] == requested[i]) correct[requested[i]]++;
        }
        double[] out = new double[k];
        for (int c = 0; c < k; c++) out[c] = asked[c] == 0 ? Double.NaN : (double) correct[c] / asked[c];
        return out;
    }

    private static int[] predicted(INDArray probabilities, int[] requested) {
        if (probabilities.rank() != 2 || probabilities.size(0) != requested.length) {
            throw new IllegalArgumentException("expected (" + requested.length + ", classes) probabilities, got " + java.util.Arrays.toString(probabilities.shape()));
        }
        int k = (int) probabilities.size(1);
        for (int i = 0; i < requested.length; i++) {
            if (requested[i] < 0 || requested[i] >= k) throw new IllegalArgumentException("requested class " + requested[i] + " of row " + i + " is not in 0.." + (k - 1));
        }
        return argmax(probabilities);
    }

    /** The most probable class of each row; the first one on ties (a rule of our own, not ND4J's argMax's). */
    static int[] argmax(INDArray probabilities) {
        int n = (int) probabilities.size(0), k = (int) probabilities.size(1);
        float[] p = probabilities.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
            out[i] = best;
        }
        return out;
    }
}
