package io.latteflow.model.eval;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.data.LabeledImages;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The paper's class-conditional measurements at small scale: images generated from the class captions of a labelled
 * set, scored in the feature space of a {@link Classifier} trained on that set's training images. FID against the
 * reference images (the test split), an Inception-Score-style score, and the fraction of images the classifier puts in
 * the class that was asked for. The same numbers for real images give the ceiling row.
 *
 * <pre>{@code
 * GenerationQuality q = new GenerationQuality(Classifier.load(dir), FashionMnist.load(root, Split.TEST));
 * GenerationQuality.Result r = q.generated(model, new GenerationQuality.Settings(10_000, 20, 3.0, 50, 0), done -> {});
 * GenerationQuality.Result ceiling = q.real(FashionMnist.load(root, Split.TRAIN), 10_000);
 * }</pre>
 */
public final class GenerationQuality {
    /** Splits of the Inception-Score estimate, as in the usual protocol. */
    private static final int IS_SPLITS = 10;
    private static final int FEATURE_BATCH = 500;

    private final Classifier classifier;
    private final LabeledImages reference;
    private final Fid.Gaussian referenceStats;

    /**
     * @param classifier the feature extractor and class judge
     * @param reference  the real images generated ones are compared with (their Gaussian is fitted here, once)
     */
    public GenerationQuality(Classifier classifier, LabeledImages reference) {
        this.classifier = classifier;
        this.reference = reference;
        List<BufferedImage> all = new ArrayList<>(reference.size());
        for (int i = 0; i < reference.size(); i++) all.add(reference.image(i));
        this.referenceStats = Fid.Gaussian.fit(features(all));
    }

    /**
     * How a run samples: {@code samples} images, spread evenly over the classes (image i asks for class i mod k),
     * {@code steps} Euler steps, guidance scale, images per model call, and the seed of image 0 (image i uses seed + i).
     */
    public record Settings(int samples, int steps, double guidance, int batch, long seed) {
        public Settings {
            if (samples < 2) throw new IllegalArgumentException("samples must be >= 2 (FID needs a covariance), got " + samples);
            if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            if (!(guidance >= 0) || Double.isInfinite(guidance)) throw new IllegalArgumentException("guidance must be a finite number >= 0, got " + guidance);
            if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
    }

    /**
     * One row of the results: FID to the reference, Inception Score (mean and spread over splits), accuracy of the
     * requested class overall and per class, and sampling time per image (0 for real images).
     */
    public record Result(String source, int samples, int steps, double guidance, double fid, double inceptionScore,
                         double inceptionScoreStd, double classAccuracy, double[] perClassAccuracy, double secondsPerImage) {}

    /** Generates {@code settings.samples()} images with {@code model} and scores them; {@code progress} gets images done. */
    public Result generated(LatteFlow model, Settings settings, IntConsumer progress) {
        int k = reference.classCount();
        List<BufferedImage> images = new ArrayList<>(settings.samples());
        int[] requested = new int[settings.samples()];
        long sampling = 0;
        for (int from = 0; from < settings.samples(); from += settings.batch()) {
            int to = Math.min(settings.samples(), from + settings.batch());
            List<GenerationRequest> batch = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                requested[i] = i % k;
                batch.add(new GenerationRequest(reference.caption(i % k), settings.steps(), settings.guidance(), settings.seed() + i));
            }
            long t0 = System.nanoTime();
            List<GeneratedImage> out = model.generate(batch);
            sampling += System.nanoTime() - t0;
            for (GeneratedImage g : out) images.add(g.image());
            progress.accept(to);
        }
        return score("generated", images, requested, settings.steps(), settings.guidance(), sampling / 1e9 / settings.samples());
    }

    /** The ceiling row: the first {@code count} images of {@code real} (e.g. the training split) through the same metrics. */
    public Result real(LabeledImages real, int count) {
        int n = Math.min(count, real.size());
        List<BufferedImage> images = new ArrayList<>(n);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            images.add(real.image(i));
            labels[i] = real.label(i);
        }
        return score(real.name(), images, labels, 0, 0, 0);
    }

    private Result score(String source, List<BufferedImage> images, int[] requested, int steps, double guidance, double secondsPerImage) {
        INDArray probabilities = probabilities(images);
        InceptionScore.Result is = InceptionScore.of(probabilities, Math.min(IS_SPLITS, images.size()));
        double fid = Fid.distance(Fid.Gaussian.fit(features(images)), referenceStats);
        return new Result(source, images.size(), steps, guidance, fid, is.mean(), is.std(),
                ClassAccuracy.of(probabilities, requested), ClassAccuracy.perClass(probabilities, requested), secondsPerImage);
    }

    private INDArray features(List<BufferedImage> images) {
        List<INDArray> parts = new ArrayList<>();
        for (int from = 0; from < images.size(); from += FEATURE_BATCH) {
            parts.add(classifier.features(images.subList(from, Math.min(images.size(), from + FEATURE_BATCH))));
        }
        return Nd4j.vstack(parts);                                                // (n, featureSize)
    }

    private INDArray probabilities(List<BufferedImage> images) {
        List<INDArray> parts = new ArrayList<>();
        for (int from = 0; from < images.size(); from += FEATURE_BATCH) {
            parts.add(classifier.predict(images.subList(from, Math.min(images.size(), from + FEATURE_BATCH))));
        }
        return Nd4j.vstack(parts);                                                // (n, classes)
    }
}
