package io.latteflow.model.flow;

import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.nn.LayerEvalCounter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Counts the layers whose weights the engine actually read during sampling. */
class LayerEvaluationTest {

    @Test
    void eachSamplingStepEvaluatesExactlyMLayersAndARunMTimesTSteps() {
        LatteConfig c = LatteConfig.tiny().toBuilder().numLayers(8).build().withGroups(4);                // L = 8, K = 4, M = 2
        try (LatteFlow flow = LatteFlow.create(c, 3)) {
            LayerEvalCounter counter = flow.model().samplingCounter();
            flow.generate(GenerationRequest.of("warm up").withSteps(1));
            for (int steps : new int[]{1, 4, 9}) {
                long before = counter.layerEvaluations(), calls = counter.graphCalls();
                flow.generate(List.of(GenerationRequest.of("red fox").withSteps(steps), GenerationRequest.of("blue").withSteps(steps)));
                assertEquals(steps, counter.graphCalls() - calls, "one group call per step, guidance rows batched");
                assertEquals(2L * steps, counter.layerEvaluations() - before, "M * T' layer evaluations");
            }
        }
    }

    @Test
    void vanillaEvaluatesAllLayersAtEveryStep() {
        LatteConfig c = LatteConfig.tiny().toBuilder().numLayers(8).build().vanilla();
        try (LatteFlow flow = LatteFlow.create(c, 3)) {
            LayerEvalCounter counter = flow.model().samplingCounter();
            long before = counter.layerEvaluations();
            flow.generate(GenerationRequest.of("red fox").withSteps(5));
            assertEquals(8L * 5, counter.layerEvaluations() - before, "L * T' layer evaluations");
        }
    }

    @Test
    void onePrefillPerRequestWhateverTheNumberOfSteps() {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 3)) {
            for (int steps : new int[]{1, 6, 15}) {
                long before = flow.model().vlm().prefillCount();
                flow.generate(GenerationRequest.of("a green frog").withSteps(steps).withGuidance(4));
                assertEquals(1, flow.model().vlm().prefillCount() - before);
            }
        }
    }

    @Test
    void strictPartitionAtInferenceAndWidenedIntervalsInTraining() {
        TimestepPartition p = new TimestepPartition(4, 100);
        assertEquals(0, p.groupAt(0.0));
        assertEquals(0, p.groupAt(0.2499));
        assertEquals(1, p.groupAt(0.25));
        assertEquals(3, p.groupAt(0.99));
        assertEquals(3, p.groupAt(1.0));
        assertArrayEqualsApprox(new double[]{0.0, 0.30}, p.trainingInterval(0));   // tau [700, 1000]
        assertArrayEqualsApprox(new double[]{0.20, 0.55}, p.trainingInterval(1));  // tau [450, 800]
        assertArrayEqualsApprox(new double[]{0.70, 1.0}, p.trainingInterval(3));   // tau [0, 300]
        assertArrayEqualsApprox(new double[]{0.0, 1.0}, new TimestepPartition(1, 0).trainingInterval(0));
    }

    private static void assertArrayEqualsApprox(double[] want, double[] got) {
        assertEquals(want[0], got[0], 1e-12);
        assertEquals(want[1], got[1], 1e-12);
    }
}
