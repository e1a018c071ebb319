package io.latteflow.model;

import io.latteflow.model.eval.Classifier;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped models load and draw what was asked: the Fashion model's trousers are trousers to the classifier. */
class ShippedModelsTest {
    static final Path MODELS = Path.of("..", "models");

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
}
