package io.latteflow.model.eval;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.data.FashionMnist;
import io.latteflow.model.data.TestData;
import io.latteflow.model.data.LabeledImages;
import io.latteflow.model.data.Split;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The measurements of the results report, on the real test set and the shipped classifier. */
class GenerationQualityITCase {
    private static Classifier classifier;
    private static LabeledImages test;
    private static GenerationQuality quality;

    @BeforeAll
    static void load() throws IOException {
        classifier = Classifier.load(TestData.repoRoot().resolve("models/fashion-classifier"));
        test = FashionMnist.load(TestData.dataRoot(), Split.TEST);
        quality = new GenerationQuality(classifier, test);
    }

    @Test
    void theReferenceSetScoredAgainstItselfHasZeroFidAndTheClassifiersAccuracy() {
        GenerationQuality.Result r = quality.real(test, test.size());
        assertEquals(0, r.fid(), 1e-4);                                   // ~2e-6 of float rounding seen
        assertEquals(classifier.config().report().orElseThrow().testAccuracy(), r.classAccuracy(), 0.001);
        assertTrue(r.inceptionScore() > 5, "10 well-separated classes give an IS near 10, got " + r.inceptionScore());
    }

    @Test
    void realTrainingImagesAreCloseButNotIdenticalToTheTestSet() {
        GenerationQuality.Result r = quality.real(FashionMnist.load(TestData.dataRoot(), Split.TRAIN), 2000);
        assertEquals(2000, r.samples());
        assertTrue(r.fid() > 0 && r.fid() < 5, "train vs test FID " + r.fid());
    }

    @Test
    void noiseFromAnUntrainedModelScoresFarBelowRealImages() {
        try (LatteFlow untrained = LatteFlow.create(LatteConfig.small(), 3)) {
            List<Integer> progress = new ArrayList<>();
            GenerationQuality.Result r = quality.generated(untrained, new GenerationQuality.Settings(20, 2, 1.0, 8, 0), progress::add);
            assertEquals(List.of(8, 16, 20), progress);
            assertEquals(20, r.samples());
            assertEquals(10, r.perClassAccuracy().length);
            GenerationQuality.Result real = quality.real(test, 20);
            // With 20 images both FIDs carry the small-sample bias; noise still lands several times further away.
            assertTrue(r.fid() > 3 * real.fid(), "untrained FID " + r.fid() + " vs real " + real.fid());
            assertTrue(r.classAccuracy() < 0.5, "untrained class accuracy " + r.classAccuracy());
            assertTrue(r.secondsPerImage() > 0);
        }
    }

    @Test
    void settingsRejectWhatCannotBeMeasured() {
        assertThrows(IllegalArgumentException.class, () -> new GenerationQuality.Settings(1, 10, 3, 8, 0));
        assertThrows(IllegalArgumentException.class, () -> new GenerationQuality.Settings(100, 0, 3, 8, 0));
        assertThrows(IllegalArgumentException.class, () -> new GenerationQuality.Settings(100, 10, Double.NaN, 8, 0));
        assertThrows(IllegalArgumentException.class, () -> new GenerationQuality.Settings(100, 10, 3, 0, 0));
    }
}
