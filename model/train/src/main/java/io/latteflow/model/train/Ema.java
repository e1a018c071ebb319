package io.latteflow.model.train;

import io.latteflow.model.nn.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Exponential moving average of chosen weights, the copy that is saved and sampled from. The decay ramps up as
 * (1 + n) / (10 + n) until it reaches its set value, so short runs are not dominated by the initial weights.
 *
 * <pre>{@code
 * Ema ema = new Ema(model.params(), name -> name.startsWith("gen."), 0.999);
 * trainer.step(...); ema.update();
 * Map<String, INDArray> weights = ema.averaged();
 * }</pre>
 */
public final class Ema {
    private final ParamStore params;
    private final double decay;
    private final Map<String, INDArray> shadow = new LinkedHashMap<>();
    private long updates;

    public Ema(ParamStore params, Predicate<String> names, double decay) {
        if (!(decay >= 0 && decay < 1)) throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + decay);
        this.params = params;
        this.decay = decay;
        params.all().forEach((name, w) -> {
            if (names.test(name)) shadow.put(name, w.dup());
        });
    }

    /** Folds the current weights in. */
    public void update() {
        double d = Math.min(decay, (1.0 + updates) / (10.0 + updates));
        updates++;
        shadow.forEach((name, avg) -> avg.muli(d).addi(params.get(name).mul(1 - d)));
    }

    /** The averaged weights by name (live arrays: copy to keep). */
    public Map<String, INDArray> averaged() {
        return shadow;
    }

    public long updates() {
        return updates;
    }

    /** Continues from saved averages after {@code updates} updates. */
    public void restore(Map<String, INDArray> averages, long updates) {
        if (!averages.keySet().equals(shadow.keySet())) {
            throw new IllegalArgumentException("EMA weights in the checkpoint (" + averages.size()
                    + ") do not match this model's (" + shadow.size() + ")");
        }
        averages.forEach((name, a) -> shadow.get(name).assign(a.reshape(shadow.get(name).shape())));
        this.updates = updates;
    }
}
