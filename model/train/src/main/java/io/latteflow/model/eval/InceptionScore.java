package io.latteflow.model.eval;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Inception-Score-style diversity and confidence: {@code exp(E_x KL(p(y|x) || p(y)))} from a classifier's
 * probabilities, p(y) being the mean prediction. It lies between 1 (every image gets the same prediction) and the
 * number of classes (confident predictions spread evenly over all classes). With splits, the score is computed on
 * each of {@code splits} consecutive chunks and the mean and standard deviation are reported, as in the original.
 *
 * <pre>{@code
 * InceptionScore.Result is = InceptionScore.of(classifier.predict(generated), 10);  // is.mean() +- is.std()
 * double one = InceptionScore.score(classifier.predict(generated));                 // a single split
 * }</pre>
 */
public final class InceptionScore {
    private InceptionScore() {
    }

    /**
     * Mean and population standard deviation over the splits.
     *
     * <pre>{@code
     * System.out.printf("IS %.2f +- %.2f%n", r.mean(), r.std());
     * }</pre>
     */
    public record Result(double mean, double std, int splits) {
    }

    /** The score of (n, classes) probabilities taken as one set. */
    public static double score(INDArray probabilities) {
        return of(probabilities, 1).mean();
    }

    /** The score of images under a classifier, one split. */
    public static double score(Classifier classifier, List<BufferedImage> images) {
        return score(classifier.predict(images));
    }

    /** The score of each of {@code splits} consecutive chunks of the rows (the last chunks may be one row shorter). */
    public static Result of(INDArray probabilities, int splits) {
        if (probabilities.rank() != 2) throw new IllegalArgumentException("probabilities must be (n, classes)");
        int n = (int) probabilities.size(0), k = (int) probabilities.size(1);
        if (splits < 1 || splits > n) throw new IllegalArgumentException("splits must be 1.." + n + ", not " + splits);
        double[] p = probabilities.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] scores = new double[splits];
        for (int s = 0; s < splits; s++) {
            int from = (int) ((long) s * n / splits), to = (int) ((long) (s + 1) * n / splits);
            scores[s] = score(p, k, from, to);
        }
        double mean = 0, var = 0;
        for (double v : scores) mean += v / splits;
        for (double v : scores) var += (v - mean) * (v - mean) / splits;
        return new Result(mean, Math.sqrt(var), splits);
    }

    private static double score(double[] p, int k, int from, int to) {
        double[] marginal = new double[k];
        for (int i = from; i < to; i++)
            for (int c = 0; c < k; c++) marginal[c] += p[i * k + c] / (to - from);
        double kl = 0;
        for (int i = from; i < to; i++)
            for (int c = 0; c < k; c++) {
                double q = p[i * k + c];
                if (q > 0) kl += q * (Math.log(q) - Math.log(marginal[c]));   // 0 log 0 = 0; q > 0 implies marginal > 0
            }
        return Math.exp(kl / (to - from));
    }
}
