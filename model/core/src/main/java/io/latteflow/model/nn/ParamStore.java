package io.latteflow.model.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * The model's weights by Hugging Face name. Every SameDiff graph of a model binds the same arrays,
 * so an optimizer step in place is seen by all graphs at once. {@link #close()} frees the weights and the plans of
 * every graph made on them.
 *
 * <pre>{@code
 * ParamStore p = new ParamStore(42);
 * p.normal("model.embed_tokens.weight", 0.02, 64, 32);
 * }</pre>
 */
public final class ParamStore implements AutoCloseable {
    private final Map<String, INDArray> arrays = new LinkedHashMap<>();
    /** The graphs made on these weights, weakly: a graph dropped before the store is closed is not kept alive. */
    private final Set<Net> nets = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
    private volatile boolean closed;
    private final SplittableRandom random;

    public ParamStore(long seed) {
        this.random = new SplittableRandom(seed);
    }

    public INDArray normal(String name, double std, long... shape) {
        float[] data = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
        for (int i = 0; i < data.length; i++) data[i] = (float) (gaussian() * std);
        return put(name, Nd4j.create(data, shape, 'c'));
    }

    public INDArray zeros(String name, long... shape) {
        return put(name, Nd4j.zeros(DataType.FLOAT, shape));
    }

    public INDArray ones(String name, long... shape) {
        return put(name, Nd4j.ones(DataType.FLOAT, shape));
    }

    /** A copy of another parameter (Couple's generation layers start as copies of the VLM layers). */
    public INDArray copy(String name, String from) {
        return put(name, get(from).dup('c'));
    }

    public INDArray put(String name, INDArray value) {
        if (arrays.containsKey(name)) throw new IllegalStateException("Parameter defined twice: " + name);
        arrays.put(name, value);
        return value;
    }

    public INDArray get(String name) {
        if (closed) throw new IllegalStateException("The weights are closed (the model was closed); load it again");
        INDArray a = arrays.get(name);
        if (a == null) throw new IllegalArgumentException("No parameter named " + name);
        return a;
    }

    public boolean has(String name) {
        return arrays.containsKey(name);
    }

    public Map<String, INDArray> all() {
        return Collections.unmodifiableMap(arrays);
    }

    public long count(Predicate<String> names) {
        return arrays.entrySet().stream().filter(e -> names.test(e.getKey())).mapToLong(e -> e.getValue().length()).sum();
    }

    void attach(Net net) {
        nets.add(net);
    }

    /**
     * Frees the weights' native memory and every plan of the graphs made on them, now rather than when the garbage
     * collector finds them. Why: a Flink TaskManager that lives through job restarts loads the model again at each
     * one, and the old model's arrays, owned by objects that reached the old generation, waited there for a
     * collection the heap did not need: the soak's surviving TaskManager grew 128 MB a minute outside its heap
     * (issue 19, docs/RELIABILITY.md). Only when no thread runs a graph of these weights; afterwards {@link #get}
     * throws. Idempotent.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        synchronized (nets) {
            nets.forEach(Net::closePlans);
            nets.clear();
        }
        for (INDArray a : arrays.values()) if (a.closeable()) a.close();
    }

    private double gaussian() {
        double u1 = random.nextDouble(), u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(Math.max(u1, 1e-300))) * Math.cos(2 * Math.PI * u2);
    }
}
