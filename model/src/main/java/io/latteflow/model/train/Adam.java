package io.latteflow.model.train;

import io.latteflow.model.nn.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;

import java.util.HashMap;
import java.util.Map;

/**
 * Adam over named weights of a {@link ParamStore}, updating them in place so every graph sees the step.
 * State is per weight, so weights only some steps touch (one expert group per step) keep their own counts.
 */
public final class Adam {
    private final ParamStore params;
    private final org.nd4j.linalg.learning.config.Adam config;
    private final Map<String, GradientUpdater<?>> updaters = new HashMap<>();
    private final Map<String, Integer> steps = new HashMap<>();

    public Adam(ParamStore params, double learningRate) {
        this.params = params;
        this.config = new org.nd4j.linalg.learning.config.Adam(learningRate);
    }

    /** Applies one step to every weight that has a gradient; gradients are consumed (overwritten). */
    public void step(Map<String, INDArray> gradients) {
        for (Map.Entry<String, INDArray> e : gradients.entrySet()) {
            INDArray param = params.get(e.getKey());
            INDArray grad = e.getValue();
            if (grad == null) continue;
            GradientUpdater<?> u = updaters.computeIfAbsent(e.getKey(),
                    n -> config.instantiate(Nd4j.zeros(param.dataType(), 1, config.stateSize(param.length())), true));
            int iteration = steps.merge(e.getKey(), 1, Integer::sum) - 1;
            INDArray update = grad.reshape(param.shape()).dup('c');
            u.applyUpdater(update, iteration, 0);
            param.subi(update);
        }
    }
}
