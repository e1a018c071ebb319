package io.latteflow.model.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroupSamplingTest {

    @Test
    void aPerSampleStepTrainsEveryGroupAndLeavesTheVlmBitIdentical() {
        Changed step = oneStep(GroupSampling.PER_SAMPLE, 4);
        assertNull(step.group, "a per-sample step names no single group");
        assertEquals(Set.of(0, 1), step.groupsTouched(), "groups whose own output weights moved");
        assertEquals(Set.of(0, 1, 2, 3), step.layersTouched(), "generation layers whose weights moved");
        assertTrue(step.names.stream().noneMatch(n -> n.startsWith("model.") || n.startsWith("visual.")), "VLM weights moved: " + step.names);
    }

    @Test
    void aPerStepStepTrainsOnlyTheGroupItDrew() {
        Changed step = oneStep(GroupSampling.PER_STEP, 4);
        assertEquals(Set.of(step.group), step.groupsTouched());
        int m = LatteConfig.tiny().layersPerGroup();
        Set<Integer> layers = new TreeSet<>();
        for (int l = step.group * m; l < (step.group + 1) * m; l++) layers.add(l);
        assertEquals(layers, step.layersTouched());
    }

    @Test
    void aGroupWithNoSampleInTheBatchIsNotUpdated() {
        Changed step = oneStep(GroupSampling.PER_SAMPLE, 1);
        assertEquals(1, step.groupsTouched().size(), "one sample trains one group: " + step.names);
    }

    @Test
    void aRunSavedBeforeTheChoiceExistedResumesTrainingOneGroupPerStep() throws Exception {
        String saved = "{\"understandingSteps\":0,\"generationSteps\":1000,\"batch\":64,\"learningRate\":0.001,\"seed\":0,"
                + "\"checkpointEvery\":250,\"emaDecay\":0.999,\"snapshotEvery\":250}";
        TrainingRun.Plan plan = new ObjectMapper().readValue(saved, TrainingRun.Plan.class);
        assertEquals(GroupSampling.PER_STEP, plan.groupSampling());
    }

    private record Changed(Integer group, Set<String> names) {
        Set<Integer> groupsTouched() {
            return indices("gen\\.groups\\.(\\d+)\\..*");
        }

        Set<Integer> layersTouched() {
            return indices("gen\\.layers\\.(\\d+)\\..*");
        }

        private Set<Integer> indices(String pattern) {
            Set<Integer> out = new TreeSet<>();
            for (String n : names) if (n.matches(pattern)) out.add(Integer.parseInt(n.replaceAll(pattern, "$1")));
            return out;
        }
    }

    /**
     * The weights one step of {@code sampling} moves, after a warm-up step on every group: the output projections
     * start at zero, so before it no gradient reaches a group's layers.
     */
    private static Changed oneStep(GroupSampling sampling, int batch) {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 4)) {
            LatteConfig c = flow.config();
            List<int[]> ctx = Collections.nCopies(batch, flow.captionContext("red apple"));
            INDArray x1 = Nd4j.rand(batch, c.latentTokens(), c.latentDim());
            GenerationTrainer warmUp = new GenerationTrainer(flow.model(), 1e-3, 1, flow.captionContext(""));
            for (int g = 0; g < c.groups(); g++) warmUp.step(ctx, x1, g);
            Map<String, float[]> before = new HashMap<>();
            flow.model().params().all().forEach((k, v) -> before.put(k, v.data().asFloat()));
            GenerationTrainer trainer = new GenerationTrainer(flow.model(), 1e-3, 1, flow.captionContext(""), sampling);
            GenerationTrainer.Step step = trainer.step(ctx, x1);
            assertTrue(Double.isFinite(step.loss()) && step.loss() > 0, "loss " + step.loss());
            Set<String> changed = new TreeSet<>();
            flow.model().params().all().forEach((k, v) -> {
                if (!Arrays.equals(v.data().asFloat(), before.get(k))) changed.add(k);
            });
            return new Changed(step.group(), changed);
        }
    }
}
