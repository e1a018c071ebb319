package io.latteflow.model;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContinuousBatcherTest {
    private static LatteFlow flow;

    @BeforeAll
    static void model() {
        flow = withRandomHeads(LatteFlow.create(LatteConfig.tiny(), 3));
    }

    /**
     * A fresh model's zero-initialised weights (output heads, adaLN, residual gates) make every velocity 0, so every
     * image would be its noise whatever the sampler did; random values make the comparisons below mean something.
     */
    static LatteFlow withRandomHeads(LatteFlow f) {
        java.util.Random rng = new java.util.Random(11);
        f.parameters().all().forEach((name, w) -> {
            if (name.startsWith("gen.") && w.amaxNumber().doubleValue() == 0) {
                float[] v = new float[(int) w.length()];
                for (int i = 0; i < v.length; i++) v[i] = (float) (0.2 * rng.nextGaussian());
                w.assign(org.nd4j.linalg.factory.Nd4j.create(v, w.shape(), 'c'));
            }
        });
        return f;
    }

    @Test
    void theBatcherRunsTheGroupThatOwnsEachStepAsGenerateDoesEvenWhereOneOverStepsRoundsDown() {
        // At 98 steps, 49 * (1.0 / 98) is just below 0.5 while 49 / 98 is 0.5: with K = 4 the two ways of timing a
        // step chose different groups at step 49 (found by bench/torch_peer.py).
        try (LatteFlow four = withRandomHeads(LatteFlow.create(LatteConfig.tiny().toBuilder().groups(4).overlap(50).build(), 5))) {
            GenerationRequest r = GenerationRequest.of("red apple").withSteps(98).withGuidance(1.0).withSeed(7);
            ContinuousBatcher<Integer> batcher = new ContinuousBatcher<>(four, 4);
            batcher.add(r, 0);
            List<ContinuousBatcher.Done<Integer>> done = new java.util.ArrayList<>();
            while (batcher.inFlight() > 0) done.addAll(batcher.tick());
            double diff = four.generate(r).latents().sub(done.get(0).image().latents()).amaxNumber().doubleValue();
            assertTrue(diff < 1e-4, "continuous and static sampling differ by " + diff);
        }
    }

    @AfterAll
    static void close() {
        flow.close();
    }

    @Test
    void imagesEqualStaticGenerationWhenRequestsJoinAtDifferentSteps() {
        List<GenerationRequest> requests = List.of(
                GenerationRequest.of("red apple").withSteps(4).withSeed(1),
                GenerationRequest.of("smiling face with open mouth").withSteps(6).withGuidance(1.0).withSeed(2),
                GenerationRequest.of("cat").withSteps(5).withGuidance(4.0).withSeed(3),
                GenerationRequest.of("green tree").withSteps(4).withSeed(4));
        ContinuousBatcher<Integer> batcher = new ContinuousBatcher<>(flow, 8);
        Map<Integer, GeneratedImage> done = new HashMap<>();
        batcher.add(requests.get(0), 0);
        batcher.add(requests.get(1), 1);
        for (int i = 0; i < 2; i++) batcher.tick().forEach(d -> done.put(d.tag(), d.image()));
        batcher.add(requests.get(2), 2);
        batcher.tick().forEach(d -> done.put(d.tag(), d.image()));
        batcher.add(requests.get(3), 3);
        while (batcher.inFlight() > 0) batcher.tick().forEach(d -> done.put(d.tag(), d.image()));

        assertEquals(4, done.size());
        for (int i = 0; i < requests.size(); i++) {
            INDArray alone = flow.generate(requests.get(i)).latents();
            INDArray joined = done.get(i).latents();
            double diff = alone.sub(joined).amaxNumber().doubleValue();
            assertTrue(diff < 1e-4, "request " + i + " differs by " + diff);
            assertEquals(requests.get(i).steps().intValue(), done.get(i).steps());
        }
    }

    @Test
    void imagesAtStepsOfTheSameGroupShareOneModelCall() {
        ContinuousBatcher<String> batcher = new ContinuousBatcher<>(flow, 8);
        batcher.add(GenerationRequest.of("cat").withSteps(8).withSeed(1), "a");
        batcher.tick();                                                           // a: step 1 of 8, group 0
        batcher.add(GenerationRequest.of("dog").withSteps(8).withSeed(2), "b");   // joins a in group 0
        int finished = 0;
        while (batcher.inFlight() > 0) finished += batcher.tick().size();
        assertEquals(2, finished);
        assertTrue(batcher.ticks() < 16, "fewer model calls than steps: " + batcher.ticks());
        assertEquals(16, batcher.imagesAdvanced(), "every step of both images ran once");
    }

    @Test
    void contextsOfDifferentLengthsArePaddedUnderTheKeyMask() {
        var c = flow.config();
        var shortCtx = io.latteflow.model.flow.GenerationContext.of(c, List.of(flow.captionContext("cat")), flow.model().vlm(), flow.tokenizer().padId());
        var longCtx = io.latteflow.model.flow.GenerationContext.of(c, List.of(flow.captionContext("smiling face with open mouth")),
                flow.model().vlm(), flow.tokenizer().padId());
        var both = io.latteflow.model.flow.GenerationContext.concat(List.of(shortCtx, longCtx));
        long n = longCtx.keyMask().size(3), shortN = shortCtx.keyMask().size(3);
        assertTrue(n > shortN, "the captions have different lengths");
        assertEquals(n, both.keys()[0].size(2));
        for (long j = shortN; j < n; j++) {
            assertEquals(io.latteflow.model.vlm.PromptBatch.MASKED, both.keyMask().getFloat(0, 0, 0, j), "padding of row 0 is masked");
        }
        assertEquals(0f, both.keyMask().getFloat(1, 0, 0, n - 1), "the long row sees all of its context");
    }

    @Test
    void aTickAdvancesAtMostMaxImages() {
        ContinuousBatcher<Integer> batcher = new ContinuousBatcher<>(flow, 2);
        for (int i = 0; i < 5; i++) batcher.add(GenerationRequest.of("cat").withSteps(2).withSeed(i), i);
        batcher.tick();
        assertEquals(2, batcher.imagesAdvanced());
        assertEquals(5, batcher.inFlight());
    }
}
