package io.latteflow.model.train;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.Variant;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrozenBackboneTest {

    @Test
    void coupleTrainingLeavesEveryVlmWeightBitIdenticalAndTrainsGenerationWeights() {
        Map<String, INDArray> changed = train(Variant.COUPLE);
        assertEquals(List.of(), changed.keySet().stream().filter(n -> n.startsWith("model.") || n.startsWith("visual.")).toList(),
                "VLM weights whose bits changed");
        assertTrue(changed.containsKey("gen.groups.0.proj_out.weight") || changed.containsKey("gen.groups.1.proj_out.weight"));
        assertTrue(changed.keySet().stream().anyMatch(n -> n.startsWith("gen.layers.")), "generation layers trained");
    }

    @Test
    void blendTrainingAlsoUpdatesTheSharedVlmAttention() {
        Map<String, INDArray> changed = train(Variant.BLEND);
        assertTrue(changed.keySet().stream().anyMatch(n -> n.matches("model\\.layers\\.\\d+\\.self_attn\\.q_proj\\.weight")), "shared attention trained: " + changed.keySet());
        assertTrue(changed.containsKey("model.embed_tokens.weight"), "context embeddings trained");
        assertTrue(changed.keySet().stream().noneMatch(n -> n.startsWith("visual.")), "no image enters generation training");
    }

    /** Trains a few steps on random data; returns the weights whose bytes changed. */
    private static Map<String, INDArray> train(Variant variant) {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny().withVariant(variant), 4)) {
            Map<String, INDArray> before = new HashMap<>();
            flow.model().params().all().forEach((k, v) -> before.put(k, v.dup()));
            GenerationTrainer trainer = new GenerationTrainer(flow.model(), 1e-3, 1, flow.captionContext(""));
            LatteConfig c = flow.config();
            List<int[]> ctx = List.of(flow.captionContext("red apple"), flow.captionContext("blue"));
            for (int step = 0; step < 4; step++) trainer.step(ctx, Nd4j.rand(2, c.latentTokens(), c.latentDim()), step % c.groups());
            Map<String, INDArray> changed = new HashMap<>();
            flow.model().params().all().forEach((k, v) -> {
                if (!Arrays.equals(v.data().asFloat(), before.get(k).data().asFloat())) changed.put(k, before.get(k));
            });
            assertNotEquals(0, changed.size());
            return changed;
        }
    }
}
