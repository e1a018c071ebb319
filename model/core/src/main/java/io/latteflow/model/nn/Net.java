package io.latteflow.model.nn;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One SameDiff graph over a shared {@link ParamStore}, with the building blocks every part of the model uses.
 * Weights follow Hugging Face: a linear layer's weight is (out, in).
 *
 * <pre>{@code
 * Net net = new Net(params);
 * SDVariable x = net.input("x", -1, -1, 32);                       // (batch, n, d)
 * SDVariable y = net.rmsNorm(x, "model.norm.weight", 1e-6);
 * }</pre>
 */
public final class Net {
    static {
        NativeHeap.configure();            // before graphs churn native arrays: glibc would keep what they free (issue 19)
    }

    public final SameDiff sd = SameDiff.create();
    private final ParamStore params;
    private final boolean training;
    private final Map<String, SDVariable> tokenShapes = new HashMap<>();

    /** A graph for inference (and any use): broadcasting products are plain products. */
    public Net(ParamStore params) {
        this(params, false, inferenceBudget());
    }

    /**
     * An inference graph whose plans may keep up to {@code replayBytes} of activations (others: {@code
     * latte.replay.maxBytes}, 256 MB). A plan over its graph's budget is made again at every call; the DC-AE codec's
     * (about 1 GB at 256x256 for f32c32) kept was faster and peaked lower than remade (issue 20).
     */
    public static Net withReplayBudget(ParamStore params, long replayBytes) {
        return new Net(params, false, replayBytes);
    }

    /** A graph that will be differentiated: see {@link #scale}. */
    public static Net forTraining(ParamStore params) {
        return new Net(params, true, inferenceBudget());
    }

    /** Read at each graph's creation, as before, so a benchmark can change it between graphs. */
    private static long inferenceBudget() {
        return Long.getLong("latte.replay.maxBytes", 256L << 20);
    }

    private Net(ParamStore params, boolean training, long replayBytes) {
        this.params = params;
        params.attach(this);
        this.forward = new Runner(sd, replayBytes);
        this.training = training;
        // SameDiff's default holder (ThreadSafeArrayHolder) keeps a DeviceLocalNDArray copy of every variable it is
        // given: each graph held a second copy of its weights, 17.6 GB for Qwen2-VL-2B's prefill and decode graphs
        // (issue 16). A plain holder binds the ParamStore's arrays themselves; graphs are fully built (synchronized)
        // before any thread runs them, after which the holder is only read.
        sd.setArrayHolders(new SingleThreadArrayHolder(), new SingleThreadArrayHolder(), false);
    }

    public ParamStore params() {
        return params;
    }

    /**
     * Runs the graph for the named outputs as a {@link Plan}, replayed when the same outputs are asked of inputs of
     * the same shapes again (see {@link Runner} for which plans are kept). {@code -Dlatte.replay=false} runs
     * everything on SameDiff's session ({@link FlatSession}), for comparison.
     */
    public Map<String, INDArray> output(Map<String, INDArray> inputs, String... outputs) {
        return forward.output(inputs, outputs);
    }

    /**
     * The loss and its gradients with respect to the named weights, from one forward and backward pass, replayed
     * like {@link #output}. The backward graph is built on the first call.
     */
    public OutAndGrad gradients(Map<String, INDArray> inputs, String loss, Collection<String> wrt) {
        Runner grad = backward(loss);
        Map<String, String> gradientOf = new LinkedHashMap<>();      // a weight the loss does not read has none
        for (String w : wrt) if (sd.getVariable(w).getGradient() != null) gradientOf.put(w, sd.getVariable(w).getGradient().name());
        List<String> names = new ArrayList<>(List.of(loss));
        names.addAll(gradientOf.values());
        Map<String, INDArray> out = grad.output(inputs, names.toArray(new String[0]));
        Map<String, INDArray> grads = new HashMap<>();
        gradientOf.forEach((w, g) -> grads.put(w, out.get(g)));
        return new OutAndGrad(Map.of(loss, out.get(loss)), grads);
    }

    private final Runner forward;
    private volatile Runner backward;

    /**
     * Frees every thread's plans of this graph now rather than when the garbage collector finds them; the next call
     * builds new ones. Only while no thread runs the graph ({@link ParamStore#close}).
     */
    void closePlans() {
        forward.close();
        if (backward != null) backward.close();
    }

    private static final Object QUIET = new Object();

    /**
     * SameDiff 1.0.0-M2.1 prints a line per differentiated op to stdout while it builds a backward graph; that would
     * flood a user's console or notebook, so stdout is muted for the duration (one graph at a time, hence the lock).
     */
    private Runner backward(String loss) {
        if (backward != null) return backward;
        synchronized (QUIET) {
            if (backward == null) {
                sd.setLossVariables(loss);
                PrintStream out = System.out;
                System.setOut(new PrintStream(OutputStream.nullOutputStream()));
                try {
                    sd.createGradFunction();
                } finally {
                    System.setOut(out);
                }
                SameDiff grad = sd.getFunction("grad");
                grad.setListeners(sd.getListeners());
                // A backward plan keeps every activation the gradients need: 527 MB for the small preset at batch 32.
                // Training holds them during a step anyway, and keeping them between steps made a step 2.7x faster.
                backward = new Runner(grad, Long.getLong("latte.replay.trainingMaxBytes", 2L << 30));
            }
            return backward;
        }
    }

    /** Whether runners replay plans; read once, for benchmarks that compare both ways in one process. */
    private static final boolean REPLAY = !"false".equals(System.getProperty("latte.replay"));

    /**
     * Runs one SameDiff graph as {@link Plan}s: made for each new input shape (cheaper than SameDiff's own run: a
     * prefill of unseen length took 0.15-0.19 s as a new plan against 0.24-0.28 s on SameDiff, bench preset, issue
     * 18) and kept for the next call of that shape, the most recently used first, while a thread's plans of the
     * graph hold at most {@link #KEEP} plans and {@code budget} bytes of activations. A plan larger than the budget
     * on its own (a long prompt on a large model) runs once and is freed. A graph a plan cannot run stays on SameDiff.
     */
    private static final class Runner {
        private static final int KEEP = 4;
        private final SameDiff graph;
        private final long budget;
        /**
         * Each thread's plans, held by the graph rather than by the thread (a ThreadLocal's value lives in the
         * thread): a model that is dropped takes its plans' arrays with it, even from a pool thread that lives on.
         */
        private final Map<Thread, Plans> plans = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
        private volatile boolean unplannable;

        Runner(SameDiff graph, long budget) {
            this.graph = graph;
            this.budget = budget;
        }

        void close() {
            synchronized (plans) {
                plans.values().forEach(Plans::close);
                plans.clear();
            }
        }

        Map<String, INDArray> output(Map<String, INDArray> inputs, String[] outputs) {
            if (REPLAY && !unplannable) {
                Map<String, INDArray> out = plans.computeIfAbsent(Thread.currentThread(), t -> new Plans()).output(inputs, outputs);
                if (out != null) return out;
            }
            FlatSession.install(graph);
            return graph.output(inputs, outputs);
        }

        private final class Plans {
            private final LinkedHashMap<String, Plan> kept = new LinkedHashMap<>(8, 0.75f, true);

            void close() {
                kept.values().forEach(Plan::close);
                kept.clear();
            }

            /** The outputs from a plan, or null when SameDiff should run (no plan possible). */
            Map<String, INDArray> output(Map<String, INDArray> inputs, String[] outputs) {
                String key = key(inputs, outputs);
                Plan plan = kept.get(key);
                if (plan != null && plan.fits(inputs)) return plan.run(inputs);
                if (plan != null) kept.remove(key).close();
                Plan fresh;
                try {
                    fresh = Plan.build(graph, inputs, outputs);
                } catch (UnsupportedOperationException e) {
                    unplannable = true;
                    return null;
                }
                Map<String, INDArray> out = fresh.results(inputs);
                if (fresh.bytes() > budget) {
                    fresh.close();
                    return out;
                }
                kept.put(key, fresh);
                long held = kept.values().stream().mapToLong(Plan::bytes).sum();
                for (var it = kept.entrySet().iterator(); it.hasNext() && (kept.size() > KEEP || held > budget); ) {
                    Plan eldest = it.next().getValue();
                    held -= eldest.bytes();
                    eldest.close();
                    it.remove();
                }
                return out;
            }

            private static String key(Map<String, INDArray> inputs, String[] outputs) {
                StringBuilder sb = new StringBuilder(String.join(",", outputs)).append('|');
                new TreeMap<>(inputs).forEach((k, v) -> sb.append(k).append(Arrays.toString(v.shape())).append(v.dataType()).append(';'));
                return sb.toString();
            }
        }
    }

    /** The graph variable bound to a stored weight (created on first use, sharing the array). */
    public SDVariable p(String name) {
        return sd.hasVariable(name) ? sd.getVariable(name) : sd.var(name, params.get(name));
    }

    public SDVariable input(String name, long... shape) {
        return sd.placeHolder(name, DataType.FLOAT, shape);
    }

    public SDVariable intInput(String name, long... shape) {
        return sd.placeHolder(name, DataType.INT32, shape);
    }

    /**
     * Tokens (batch, n, in) times W^T (+ b): (batch, n, out). The output remembers its input's (batch, n), so
     * projections of one input, and {@link #splitHeads} of any projection, share one shape computation.
     */
    public SDVariable linear(SDVariable x, String prefix, boolean bias) {
        long out = params.get(prefix + ".weight").size(0), in = params.get(prefix + ".weight").size(1);
        SDVariable tokens = tokenShape(x);
        SDVariable y = sd.reshape(dense(sd.reshape(x, -1L, in), prefix, bias), withTrailing(tokens, out));
        tokenShapes.put(y.name(), tokens);
        return y;
    }

    /**
     * (batch, n) of a rank-3 token tensor as a graph vector, computed once per tensor. Batch and length are unknown
     * when a graph is built, and SameDiff spends more time per op than these small ops take to compute, so the
     * number of shape ops matters: sharing them cut a generation layer from about 240 ops to about 150.
     */
    private SDVariable tokenShape(SDVariable x) {
        return tokenShapes.computeIfAbsent(x.name(), n -> sd.shape(x).castTo(DataType.LONG).get(SDIndex.interval(0, 2)));
    }

    private SDVariable withTrailing(SDVariable leading, long... trailing) {
        return sd.concat(0, leading, sd.constant(Nd4j.createFromArray(trailing)));
    }

    /** Rows (batch, in) times W^T (+ b): (batch, out). */
    public SDVariable dense(SDVariable x, String prefix, boolean bias) {
        SDVariable y = sd.mmul(x, p(prefix + ".weight"), false, true, false);
        return bias ? y.add(p(prefix + ".bias")) : y;
    }

    /** RMSNorm over the last axis of (batch, n, d); positive axis, as keepDims with negative axes is wrong in M2.1. */
    public SDVariable rmsNorm(SDVariable x, String weight, double eps) {
        SDVariable rms = sd.math.rsqrt(x.mul(x).mean(true, 2).add(eps));
        return scale(scale(x, rms), p(weight));
    }

    /** LayerNorm with weight and bias (the ViT's), over the last axis of (batch, n, d). */
    public SDVariable layerNorm(SDVariable x, String prefix, double eps) {
        SDVariable centered = x.sub(x.mean(true, 2));
        SDVariable var = centered.mul(centered).mean(true, 2);
        return scale(scale(centered, sd.math.rsqrt(var.add(eps))), p(prefix + ".weight")).add(p(prefix + ".bias"));
    }

    /**
     * x * y, y broadcasting to x's shape. In a graph for training, y is first broadcast by adding zeros of x's
     * shape: SameDiff 1.0.0-M2.1's multiply_bp with a broadcast operand took 480-1570 us for an (8, 49, 128) product
     * against 23 us without one, while add_bp reduces a broadcast quickly; broadcasting products were over half of a
     * small-preset training step's backward pass (issue 18). The values are the same.
     */
    public SDVariable scale(SDVariable x, SDVariable y) {
        return training ? x.mul(y.add(sd.zerosLike(x))) : x.mul(y);
    }

    public SDVariable silu(SDVariable x) {
        return x.mul(sd.nn.sigmoid(x));
    }

    /** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)) (SameDiff's gelu is the sigmoid approximation). */
    public SDVariable gelu(SDVariable x) {
        return x.mul(0.5).mul(sd.math.erf(x.mul(1 / Math.sqrt(2))).add(1.0));
    }

    /** x * sigmoid(1.702 x), the Qwen2-VL ViT's activation. */
    public SDVariable quickGelu(SDVariable x) {
        return x.mul(sd.nn.sigmoid(x.mul(1.702)));
    }

    /** down(silu(gate(x)) * up(x)). */
    public SDVariable swiGlu(SDVariable x, String prefix) {
        return linear(silu(linear(x, prefix + ".gate_proj", false)).mul(linear(x, prefix + ".up_proj", false)), prefix + ".down_proj", false);
    }

    /** (batch, n, heads*dh) -> (batch, heads, n, dh). */
    public SDVariable splitHeads(SDVariable x, int heads, int dh) {
        return sd.permute(sd.reshape(x, withTrailing(tokenShape(x), heads, dh)), 0, 2, 1, 3);
    }

    /** (batch, heads, n, dh) -> (batch, n, heads*dh), heads outermost along the last axis. */
    public SDVariable mergeHeads(SDVariable x, int heads) {
        return sd.concat(2, sd.unstack(x, 1, heads));
    }

    /**
     * x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1], for x (batch, heads, n, dh). rotate_half is a
     * product with a constant signed permutation (one +-1 per column, so exactly the slices' values): one matmul
     * instead of two slices, a negation and a concat, which cost more than their arithmetic (issue 18).
     */
    public SDVariable rope(SDVariable x, SDVariable cos, SDVariable sin, int dh) {
        SDVariable rotate = rotations.computeIfAbsent(dh, n -> {
            INDArray r = Nd4j.zeros(DataType.FLOAT, n, n);                      // rotate_half(x) = x R
            for (int j = 0; j < n / 2; j++) {
                r.putScalar(j + n / 2, j, -1f);
                r.putScalar(j, j + n / 2, 1f);
            }
            return sd.constant("rotate_half_" + n, r);
        });
        SDVariable rows = sd.reshape(x, -1L, dh);                                // (batch*heads*n, dh), a view
        SDVariable rotated = sd.reshape(sd.mmul(rows, rotate), sd.shape(x));
        return scale(x, cos).add(scale(rotated, sin));
    }

    private final Map<Integer, SDVariable> rotations = new HashMap<>();

    /**
     * q k^T / sqrt(dh) for grouped-query attention, without repeating k per query head: the {@code rep} query heads of
     * each kv head are stacked along the tokens, (batch, kvHeads, rep*nq, dh), so one batched product serves them.
     * q (batch, heads, nq, dh), k (batch, kvHeads, nk, dh); the result is (batch, heads, nq, nk) as with repeated keys.
     */
    public SDVariable groupedLogits(SDVariable q, SDVariable k, int kvHeads, int dh) {
        SDVariable grouped = regroup(q, kvHeads);                                // (batch, kvHeads, rep*nq, dh)
        return sd.reshape(logits(grouped, k, dh), withLast(q, k, 2));            // (batch, heads, nq, nk)
    }

    /**
     * probs v for grouped-query attention, as {@link #groupedLogits}: probs (batch, heads, nq, nk), v (batch, kvHeads,
     * nk, dh) give (batch, heads, nq, dh).
     */
    public SDVariable groupedAttend(SDVariable probs, SDVariable v, int kvHeads) {
        return sd.reshape(sd.mmul(regroup(probs, kvHeads), v), withLast(probs, v, 3));
    }

    /** (batch, heads, n, last) -> (batch, kvHeads, heads/kvHeads * n, last), a view of the same data. */
    private SDVariable regroup(SDVariable x, int kvHeads) {
        SDVariable s = sd.shape(x).castTo(DataType.LONG);                       // [batch, heads, n, last]
        SDVariable batch = s.get(SDIndex.interval(0, 1)), last = s.get(SDIndex.interval(3, 4));
        return sd.reshape(x, sd.concat(0, batch, sd.constant(Nd4j.createFromArray((long) kvHeads)), sd.constant(Nd4j.createFromArray(-1L)), last));
    }

    /** The shape of rank-4 x with its last dimension replaced by dimension {@code dim} of y. */
    private SDVariable withLast(SDVariable x, SDVariable y, int dim) {
        SDVariable s = sd.shape(x).castTo(DataType.LONG), t = sd.shape(y).castTo(DataType.LONG);
        return sd.concat(0, s.get(SDIndex.interval(0, 3)), t.get(SDIndex.interval(dim, dim + 1)));
    }

    /** q k^T / sqrt(dh): (batch, heads, nq, dh) x (batch, heads, nk, dh) -> (batch, heads, nq, nk). */
    public SDVariable logits(SDVariable q, SDVariable k, int dh) {
        return sd.mmul(q, k, false, true, false).mul(1.0 / Math.sqrt(dh));
    }

    /** The size of one dimension as a graph scalar, for reshapes with batch and length unknown at build time. */
    public SDVariable size(SDVariable x, int dim) {
        return sd.sizeAt(x, dim);
    }

    /** Reshape to dims given as longs or as graph scalars (from {@link #size}). */
    public SDVariable reshape(SDVariable x, Object... dims) {
        List<SDVariable> parts = new ArrayList<>();
        for (Object d : dims) {
            if (d instanceof SDVariable v) parts.add(sd.reshape(v.castTo(DataType.LONG), 1));
            else parts.add(sd.constant(Nd4j.createFromArray(((Number) d).longValue())));
        }
        return sd.reshape(x, sd.concat(0, parts.toArray(new SDVariable[0])));
    }
}
