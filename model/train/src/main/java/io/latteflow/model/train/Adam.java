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
    private final Map<String, INDArray> states = new HashMap<>();
    private final Map<String, Integer> steps = new HashMap<>();

    public Adam(ParamStore params, double learningRate) {
        this.params = params;
        this.config = new org.nd4j.linalg.learning.config.Adam(learningRate);
    }

    /** Changes the rate from the next step on (for a schedule). */
    public void setLearningRate(double learningRate) {
        config.setLearningRate(learningRate);
    }

    /** Applies one step to every weight that has a gradient; gradients are consumed (overwritten). */
    public void step(Map<String, INDArray> gradients) {
        for (Map.Entry<String, INDArray> e : gradients.entrySet()) {
            INDArray param = params.get(e.getKey());
            INDArray grad = e.getValue();
            if (grad == null) continue;
            GradientUpdater<?> u = updaters.computeIfAbsent(e.getKey(), n -> {
                INDArray state = Nd4j.zeros(param.dataType(), 1, config.stateSize(param.length()));
                states.put(n, state);
                return config.instantiate(state, true);
            });
            int iteration = steps.merge(e.getKey(), 1, Integer::sum) - 1;
            INDArray update = grad.reshape(param.shape()).dup('c');
            u.applyUpdater(update, iteration, 0);
            param.subi(update);
        }
    }

    /** The moment estimates of every weight stepped so far, (1, 2 n) each, shared with the updaters (copy to keep). */
    public Map<String, INDArray> moments() {
        return Map.copyOf(states);
    }

    /** How many steps each weight has taken. */
    public Map<String, Integer> stepCounts() {
        return Map.copyOf(steps);
    }

    /** Continues from saved {@link #moments()} and {@link #stepCounts()}, replacing any state this instance has. */
    public void restore(Map<String, INDArray> moments, Map<String, Integer> stepCounts) {
        if (!moments.keySet().equals(stepCounts.keySet())) {
            throw new IllegalArgumentException("Adam state names do not match its step counts");
        }
        updaters.clear();
        states.clear();
        steps.clear();
        for (Map.Entry<String, INDArray> e : moments.entrySet()) {
            INDArray param = params.get(e.getKey());
            long expected = config.stateSize(param.length());
            if (e.getValue().length() != expected) {
                throw new IllegalArgumentException("Adam state of " + e.getKey() + " has " + e.getValue().length()
                        + " values, expected " + expected);
            }
            INDArray state = e.getValue().reshape(1, expected).castTo(param.dataType()).dup('c');
            states.put(e.getKey(), state);
            updaters.put(e.getKey(), config.instantiate(state, false));
            steps.put(e.getKey(), stepCounts.get(e.getKey()));
        }
    }
}
