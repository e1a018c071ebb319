package io.latteflow.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LatteFlowTest {
    @TempDir
    Path dir;

    @Test
    void sameRequestGivesSameImageAloneOrInABatch() throws Exception {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 1)) {
            GenerationRequest r = GenerationRequest.of("red apple").withSteps(4).withSeed(9);
            GeneratedImage alone = flow.generate(r);
            List<GeneratedImage> batch = flow.generate(List.of(GenerationRequest.of("blue car").withSteps(4).withSeed(3), r));
            assertEquals(alone.pixels(), batch.get(1).pixels());
            assertNotEquals(batch.get(0).pixels(), batch.get(1).pixels());
            BufferedImage png = ImageIO.read(new ByteArrayInputStream(alone.png()));
            assertEquals(8, png.getWidth());
            assertEquals(4, alone.steps());
        }
    }

    @Test
    void concurrentCallersGetTheSameImagesAndAnswersAsSequentialOnes() throws Exception {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 5)) {
            List<GenerationRequest> requests = List.of(GenerationRequest.of("red").withSteps(3).withSeed(1),
                    GenerationRequest.of("blue car").withSteps(3).withSeed(2), GenerationRequest.of("").withSteps(3).withSeed(3),
                    GenerationRequest.of("green frog").withSteps(3).withSeed(4));
            INDArray image = Nd4j.rand(3, 16, 16);
            List<INDArray> sequential = requests.stream().map(r -> flow.generate(r).pixels()).toList();
            String answer = flow.answer(VqaRequest.of(image, "what is this").withMaxNewTokens(3));
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<INDArray>> images = new java.util.ArrayList<>();
                List<java.util.concurrent.Future<String>> answers = new java.util.ArrayList<>();
                for (GenerationRequest r : requests) {
                    images.add(pool.submit(() -> flow.generate(r).pixels()));
                    answers.add(pool.submit(() -> flow.answer(VqaRequest.of(image, "what is this").withMaxNewTokens(3))));
                }
                for (int i = 0; i < requests.size(); i++) {
                    assertEquals(sequential.get(i), images.get(i).get());
                    assertEquals(answer, answers.get(i).get());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void savedModelLoadsBackWithIdenticalOutputs() throws Exception {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 2)) {
            GenerationRequest r = GenerationRequest.of("green frog").withSteps(3).withSeed(1);
            INDArray before = flow.generate(r).pixels();
            INDArray image = Nd4j.rand(3, 16, 16);
            String answer = flow.answer(VqaRequest.of(image, "what is this").withMaxNewTokens(4));
            flow.save(dir);
            try (LatteFlow loaded = LatteFlow.load(dir)) {
                assertEquals(before, loaded.generate(r).pixels());
                assertEquals(answer, loaded.answer(VqaRequest.of(image, "what is this").withMaxNewTokens(4)));
                assertEquals(flow.config(), loaded.config());
            }
        }
    }
}
