package io.latteflow.model.eval;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.data.VqaSample;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VqaAccuracyTest {
    @Test
    void answersCountAsRightRegardlessOfCaseAndSpacing() {
        assertEquals("grinning face", VqaAccuracy.normalise("  Grinning   FACE \n"));
        assertEquals("", VqaAccuracy.normalise(null));
    }

    @Test
    void scoresAreKeptPerQuestionTypeAndTheWrongAnswersAreShown() {
        LatteConfig c = LatteConfig.tiny();
        try (LatteFlow model = LatteFlow.create(c, 0)) {
            BufferedImage img = new BufferedImage(c.imageSize(), c.imageSize(), BufferedImage.TYPE_INT_RGB);
            String said = model.answer(io.latteflow.model.VqaRequest.of(img, "what is this?"));
            // What the untrained model says is right by construction for one sample and wrong for the others.
            List<VqaSample> samples = List.of(new VqaSample(img, "what is this?", said.toUpperCase(), "name"),
                    new VqaSample(img, "what is this?", said + " not", "name"),
                    new VqaSample(img, "which category is this?", "\u0000never", "category"));
            List<Integer> progress = new ArrayList<>();
            VqaAccuracy.Result r = VqaAccuracy.of(model, samples, 2, progress::add);
            assertEquals(List.of(2, 3), progress);
            assertEquals(new VqaAccuracy.Score(2, 1), r.byType().get("name"));
            assertEquals(new VqaAccuracy.Score(1, 0), r.byType().get("category"));
            assertEquals(new VqaAccuracy.Score(3, 1), r.overall());
            assertEquals(2, r.mistakes().size());
            assertEquals(said + " not", r.mistakes().get(0)[1]);
        }
    }
}
