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

    /** Issue 17: the core applies the limits every front door reports, before any work; a Java user may raise them. */
    @Test
    void theCoreRefusesWorkBeyondItsLimitsBeforeSamplingAndTheLimitsCanBeRaised() throws Exception {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 1)) {
            IllegalArgumentException steps = assertThrows(IllegalArgumentException.class,
                    () -> flow.generate(List.of(GenerationRequest.of("red apple").withSteps(2), GenerationRequest.of("cat").withSteps(1001))));
            assertEquals("steps 1001 is outside [1, 1000]", steps.getMessage());
            assertEquals("guidance 1.0E30 is outside [0, 50.0]",
                    assertThrows(IllegalArgumentException.class, () -> flow.generate(GenerationRequest.of("cat").withGuidance(1e30))).getMessage());
            ContinuousBatcher<String> batcher = new ContinuousBatcher<>(flow, 4);
            assertThrows(IllegalArgumentException.class, () -> batcher.add(GenerationRequest.of("cat").withSteps(1001), "t"));
            assertEquals(0, batcher.inFlight(), "nothing admitted");
            VqaRequest q = VqaRequest.of(Nd4j.rand(3, 16, 16), "what is this?");
            assertEquals("max new tokens 300 is outside [1, 256]",
                    assertThrows(IllegalArgumentException.class, () -> flow.answer(q.withMaxNewTokens(300))).getMessage());
            assertEquals(0, flow.model().vlm().prefillCount(), "refused before any prefill");

            flow.setLimits(new RequestLimits(2000, 50, 500, 4096L * 4096, 512));
            assertEquals(1001, flow.generate(GenerationRequest.of("").withSteps(1001).withSeed(1)).steps(), "an empty prompt is the Java API's unconditional sample");
            assertNotNull(flow.answer(q.withMaxNewTokens(300)), "a raised limit lets a longer answer through");
        }
    }

    /** Issue 19: a TaskManager that reloads the model at each job restart must not wait for a GC to get its memory back. */
    @Test
    void closingFreesTheWeightsAtOnceAfterTheCallsInFlightAndRefusesLaterCalls() throws Exception {
        LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 1);
        VqaRequest question = VqaRequest.of(Nd4j.rand(3, 16, 16), "what is this?").withMaxNewTokens(2);
        assertNotNull(flow.answer(question));
        INDArray weight = flow.parameters().all().values().iterator().next();
        java.util.concurrent.CountDownLatch sampling = new java.util.concurrent.CountDownLatch(1);
        List<Boolean> closedDuringTheCall = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CompletableFuture<GeneratedImage> inFlight = java.util.concurrent.CompletableFuture.supplyAsync(() ->
                flow.generate(List.of(GenerationRequest.of("red apple").withSteps(4).withSeed(1)), progress -> {
                    closedDuringTheCall.add(weight.wasClosed());
                    sampling.countDown();
                    try {
                        Thread.sleep(100);                 // the close below arrives while this call samples
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }).get(0));
        sampling.await();
        flow.close();
        assertEquals(4, inFlight.get().steps());
        assertEquals(List.of(false, false, false, false), closedDuringTheCall, "close waited for the call in flight");
        assertTrue(weight.wasClosed(), "the weights' native memory is freed by close, not left to the garbage collector");
        assertEquals("This model is closed; load it again (LatteFlow.load)",
                assertThrows(IllegalStateException.class, () -> flow.generate(GenerationRequest.of("cat"))).getMessage());
        assertThrows(IllegalStateException.class, () -> flow.answer(question));
        flow.close();                                       // twice is fine
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
