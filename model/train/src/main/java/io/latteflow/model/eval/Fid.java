package io.latteflow.model.eval;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Fréchet distance between Gaussian fits of two feature sets (FID when the features come from a classifier):
 * {@code ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))}, in double precision.
 *
 * <p>The trace of the matrix square root is computed as {@code Tr((S1^(1/2) S2 S1^(1/2))^(1/2))}, which is equal
 * (the two matrices are similar) but symmetric positive semi-definite, so it is the sum of the square roots of its
 * eigenvalues: two symmetric eigen-decompositions (commons-math3 {@link EigenDecomposition}), with rounding-level
 * negative eigenvalues clipped to zero. Unlike the general {@code sqrtm} of pytorch-fid this cannot produce complex
 * parts or fail on singular covariances (fewer samples than feature dimensions).
 * Covariances use the unbiased (n - 1) estimator, as {@code numpy.cov} does.
 *
 * <pre>{@code
 * double fid = Fid.distance(classifier.features(realImages), classifier.features(generatedImages));
 * double same = Fid.distance(Gaussian.fit(a), Gaussian.fit(a));     // ~0
 * }</pre>
 */
public final class Fid {
    private Fid() {
    }

    /**
     * Mean and covariance of a feature set.
     *
     * <pre>{@code
     * Fid.Gaussian real = Fid.Gaussian.fit(classifier.features(testImages));   // fit once, compare many times
     * }</pre>
     */
    public record Gaussian(double[] mean, double[][] covariance) {
        /** Fits rows of (n, d) features; needs n >= 2. */
        public static Gaussian fit(INDArray features) {
            if (features.rank() != 2) throw new IllegalArgumentException("features must be (n, d), got rank " + features.rank());
            long n = features.size(0), d = features.size(1);
            double[] flat = features.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            double[][] rows = new double[(int) n][];
            for (int i = 0; i < n; i++) rows[i] = java.util.Arrays.copyOfRange(flat, (int) (i * d), (int) ((i + 1) * d));
            return fit(rows);
        }

        /** Fits rows of features, {@code rows[i]} being sample i; needs at least 2 rows of equal length. */
        public static Gaussian fit(double[][] rows) {
            if (rows.length < 2) throw new IllegalArgumentException("a covariance needs at least 2 samples, got " + rows.length);
            int d = rows[0].length;
            double[] mean = new double[d];
            for (double[] r : rows) {
                if (r.length != d) throw new IllegalArgumentException("rows of different lengths: " + d + " and " + r.length);
                for (int j = 0; j < d; j++) mean[j] += r[j];
            }
            for (int j = 0; j < d; j++) mean[j] /= rows.length;
            double[][] cov = new double[d][d];
            double[] c = new double[d];
            for (double[] r : rows) {
                for (int j = 0; j < d; j++) c[j] = r[j] - mean[j];
                for (int a = 0; a < d; a++) {
                    double ca = c[a];
                    if (ca == 0) continue;
                    for (int b = a; b < d; b++) cov[a][b] += ca * c[b];
                }
            }
            for (int a = 0; a < d; a++)
                for (int b = a; b < d; b++) cov[b][a] = cov[a][b] /= rows.length - 1;
            return new Gaussian(mean, cov);
        }

        public int dimension() {
            return mean.length;
        }
    }

    /** The Fréchet distance between Gaussian fits of two (n, d) feature sets. */
    public static double distance(INDArray features1, INDArray features2) {
        return distance(Gaussian.fit(features1), Gaussian.fit(features2));
    }

    /** FID of two image sets under a classifier's features. */
    public static double distance(Classifier classifier, List<BufferedImage> images1, List<BufferedImage> images2) {
        return distance(classifier.features(images1), classifier.features(images2));
    }

    /** The Fréchet distance between two Gaussians; never negative (rounding below zero is returned as 0). */
    public static double distance(Gaussian g1, Gaussian g2) {
        int d = g1.dimension();
        if (g2.dimension() != d) throw new IllegalArgumentException("feature sizes differ: " + d + " and " + g2.dimension());
        double meanTerm = 0, traces = 0;
        for (int j = 0; j < d; j++) {
            double diff = g1.mean()[j] - g2.mean()[j];
            meanTerm += diff * diff;
            traces += g1.covariance()[j][j] + g2.covariance()[j][j];
        }
        double fid = meanTerm + traces - 2 * traceSqrtProduct(g1.covariance(), g2.covariance());
        return Math.max(0, fid);
    }

    /**
     * Tr((S1 S2)^(1/2)) = Tr((S1^(1/2) S2 S1^(1/2))^(1/2)) = sum of sqrt(eigenvalues) of the symmetric middle, over the
     * features S1 varies in. A feature with no variance in S1 (a ReLU unit that never fires on those images) has a zero
     * row and column in S1, in S1^(1/2) and so in the middle, and adds nothing to the trace; leaving such features out
     * is exact, and it matters: commons-math's eigen-decomposition did not converge on the judge's covariance of 300
     * images from a model that could not draw yet, 159 of whose 256 features were dead (issue 20).
     */
    static double traceSqrtProduct(double[][] s1, double[][] s2) {
        int[] live = java.util.stream.IntStream.range(0, s1.length).filter(i -> s1[i][i] != 0).toArray();
        if (live.length == 0) return 0;
        RealMatrix root1 = sqrtPsd(new Array2DRowRealMatrix(s1, false).getSubMatrix(live, live));
        RealMatrix middle = symmetric(root1.multiply(new Array2DRowRealMatrix(s2, false).getSubMatrix(live, live)).multiply(root1));
        double sum = 0;
        for (double e : eigen(middle).values()) sum += Math.sqrt(Math.max(0, e));
        return sum;
    }

    /** The PSD square root V diag(sqrt(max(l, 0))) V^T of a symmetric matrix. */
    static RealMatrix sqrtPsd(RealMatrix s) {
        Eigen eig = eigen(s);
        RealMatrix v = eig.vectors();
        double[] l = eig.values();
        RealMatrix scaled = v.copy();
        for (int j = 0; j < l.length; j++) {
            double r = Math.sqrt(Math.max(0, l[j]));
            for (int i = 0; i < l.length; i++) scaled.multiplyEntry(i, j, r);
        }
        return symmetric(scaled.multiply(v.transpose()));
    }

    private record Eigen(double[] values, RealMatrix vectors) {
    }

    /**
     * Eigenvalues and vectors of a symmetric matrix; where commons-math's QL iteration gives up (its iteration cap),
     * the singular value decomposition, which for a symmetric PSD matrix has the same values and vectors except that
     * rounding-level negative eigenvalues come out as equally small positive ones.
     */
    private static Eigen eigen(RealMatrix m) {
        RealMatrix sym = symmetric(m);
        try {
            EigenDecomposition e = new EigenDecomposition(sym);
            return new Eigen(e.getRealEigenvalues(), e.getV());
        } catch (org.apache.commons.math3.exception.MaxCountExceededException notConverged) {
            SingularValueDecomposition svd = new SingularValueDecomposition(sym);
            return new Eigen(svd.getSingularValues(), svd.getU());
        }
    }

    /** (M + M^T) / 2: products of symmetric matrices are symmetric only up to rounding, and commons-math
     *  falls back to a non-symmetric solver (complex eigenvalues possible) when they are not exactly so. */
    private static RealMatrix symmetric(RealMatrix m) {
        return m.add(m.transpose()).scalarMultiply(0.5);
    }
}
