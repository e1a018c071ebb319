package io.latteflow.model.nn;

import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.RandomOp;
import org.nd4j.linalg.api.ops.ReduceOp;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.impl.shape.Rank;
import org.nd4j.linalg.api.ops.impl.shape.Reshape;
import org.nd4j.linalg.api.ops.impl.shape.Shape;
import org.nd4j.linalg.api.ops.impl.shape.SizeAt;
import org.nd4j.linalg.api.ops.impl.transforms.same.Identity;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One graph's ops for one set of input shapes, replayed with arrays allocated once.
 *
 * <p>Why (issue 18): SameDiff's {@code InferenceSession} spends 0.1-0.2 ms per op outside the op itself (dependency
 * tracking, shape inference, allocation, bookkeeping per variable), which was most of a sampling step on the
 * shipped emoji model. A generation group runs the same ops on the same shapes at every step, so all of that can be
 * done once: the plan keeps each op with its {@link OpContext}, inputs and outputs bound, and a run is one native
 * call per op. Ops whose inputs are all constants, or that only read a shape (fixed within a plan), ran when the
 * plan was made and are not run again. Intermediate arrays are reused once their last reader has run, so a plan
 * holds about one layer's activations, not the graph's.
 *
 * <p>Results equal SameDiff's bit for bit: the same ops run on the same kernels in the same order. A plan is not
 * thread-safe (its arrays are reused); {@link Net} keeps one per thread and input shape.
 *
 * <pre>{@code
 * Plan plan = Plan.build(net.sd, inputs, "velocity");   // runs the graph once
 * INDArray first = plan.results(inputs).get("velocity");
 * INDArray next = plan.run(nextInputs).get("velocity");   // inputs of the same shapes
 * }</pre>
 */
public final class Plan implements AutoCloseable {
    private final SameDiff sd;
    private final String[] outputs;
    private final List<Step> steps = new ArrayList<>();
    /** For each placeholder, the (step, input slot) pairs that read it. */
    private final Map<String, List<int[]>> placeholderSlots = new HashMap<>();
    private final Map<String, long[]> placeholderShapes = new HashMap<>();
    private final Map<String, INDArray> values = new HashMap<>();
    private final Map<String, String> sources = new HashMap<>();
    /** Views (reshapes done as views) by the variable whose array they share, for when that array may be reused. */
    private final Map<String, String> roots = new HashMap<>();
    /** The weight arrays the plan bound; a graph whose variable was given a new array needs a new plan. */
    private final Map<String, INDArray> weights = new HashMap<>();
    /** The arrays the plan allocated (never a weight, constant or input), freed by {@link #close}. */
    private final Set<INDArray> owned = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    /**
     * An op as the plan replays it: its context, and the arrays bound to it (placeholders' entries are the last run's
     * inputs), kept so the context can be purged and bound again.
     */
    private record Step(SameDiffOp op, OpContext context, INDArray[] inputs, INDArray[] outputs) {
    }

    /**
     * Runs between two purges of the contexts that take a new placeholder array at every run. libnd4j's context makes
     * a native NDArray for every array bound to it and frees them only when purged or deleted (ND4J's
     * {@code CpuOpContext.close()} does nothing; the context goes when the garbage collector finds it), so a plan
     * that lived for the whole process (a generation group's) grew by about 100 bytes per placeholder read per run:
     * 1.5 GB of resident memory after 3,000 requests of the model soak (issue 19). A purge drops them; the step's
     * arrays are bound again.
     */
    static final int PURGE_EVERY = 16;
    /** The steps that read a placeholder, whose contexts take new arrays at every run. */
    private final List<Step> rebound = new ArrayList<>();
    private long runs;

    private Plan(SameDiff sd, String[] outputs) {
        this.sd = sd;
        this.outputs = outputs.clone();
    }

    /** Makes the plan of {@code outputs} for inputs of these shapes, running the graph once on {@code inputs}. */
    public static Plan build(SameDiff sd, Map<String, INDArray> inputs, String... outputs) {
        Plan plan = new Plan(sd, outputs);
        plan.compile(inputs);
        return plan;
    }

    /** Bytes of the arrays the plan allocated (its activations and outputs), what keeping it costs. */
    public long bytes() {
        long n = 0;
        for (INDArray a : owned) n += a.length() * a.dataType().width();
        return n;
    }

    /** The ops a run executes: the graph's, less those that only read shapes or constants. */
    public int replayedOps() {
        return steps.size();
    }

    /** Whether {@code inputs} have the shapes this plan was made for, and the graph's weights are the arrays it bound. */
    public boolean fits(Map<String, INDArray> inputs) {
        for (Map.Entry<String, long[]> e : placeholderShapes.entrySet()) {
            INDArray in = inputs.get(e.getKey());
            if (in == null || !Arrays.equals(in.shape(), e.getValue())) return false;
        }
        for (Map.Entry<String, INDArray> e : weights.entrySet()) if (sd.getArrForVarName(e.getKey()) != e.getValue()) return false;
        return true;
    }

    /**
     * Runs the plan on inputs of the shapes it was made for. The returned arrays are the caller's (copies of the
     * plan's own), so the next run does not overwrite them.
     */
    public Map<String, INDArray> run(Map<String, INDArray> inputs) {
        if (!fits(inputs)) throw new IllegalArgumentException("inputs do not have the shapes this plan was made for, or a weight was replaced: " + shapes(inputs));
        boolean purge = ++runs % PURGE_EVERY == 0;
        for (Map.Entry<String, List<int[]>> e : placeholderSlots.entrySet()) {
            INDArray in = inputs.get(e.getKey());
            for (int[] slot : e.getValue()) {
                Step s = steps.get(slot[0]);
                s.inputs()[slot[1]] = in;
                if (!purge) s.context().setInputArray(slot[1], in);
            }
        }
        if (purge) {
            for (Step s : rebound) {
                s.context().purge();
                for (int a = 0; a < s.inputs().length; a++) s.context().setInputArray(a, s.inputs()[a]);
                for (int o = 0; o < s.outputs().length; o++) if (s.outputs()[o] != null) s.context().setOutputArray(o, s.outputs()[o]);
            }
        }
        List<Listener> listeners = activeListeners();
        At at = listeners.isEmpty() ? null : At.defaultAt(Operation.INFERENCE);
        for (Step s : steps) {
            DifferentialFunction f = s.op().getOp();
            long t0 = PROFILE ? System.nanoTime() : 0;
            if (f instanceof CustomOp c) Nd4j.exec(c, s.context());
            else Nd4j.exec((Op) f, s.context());
            if (PROFILE) Profile.add(f.opName(), System.nanoTime() - t0);
            for (Listener l : listeners) l.opExecution(sd, at, null, s.op(), s.context(), s.outputs());
        }
        return results(inputs);
    }

    /** Copies of the outputs of the last run (or of the run that made the plan), so the next run leaves them be. */
    public Map<String, INDArray> results(Map<String, INDArray> inputs) {
        Map<String, INDArray> out = new HashMap<>();
        for (String name : outputs) {
            String source = sources.getOrDefault(name, name);
            INDArray v = values.containsKey(source) ? values.get(source) : inputs.get(source);
            out.put(name, v.dup());
        }
        return out;
    }

    private List<Listener> activeListeners() {
        List<Listener> all = sd.getListeners();
        if (all == null || all.isEmpty()) return List.of();
        List<Listener> active = new ArrayList<>();
        for (Listener l : all) if (l.isActive(Operation.INFERENCE)) active.add(l);
        return active;
    }

    private void compile(Map<String, INDArray> inputs) {
        List<SameDiffOp> order = opsFor(outputs);
        Map<String, Integer> lastUse = lastUses(order);
        Set<String> statics = new HashSet<>();
        Map<String, ArrayDeque<INDArray>> free = new HashMap<>();
        List<Listener> listeners = activeListeners();
        At at = listeners.isEmpty() ? null : At.defaultAt(Operation.INFERENCE);
        for (String name : inputs.keySet()) if (isPlaceholder(name)) placeholderShapes.put(name, inputs.get(name).shape());

        for (int i = 0; i < order.size(); i++) {
            SameDiffOp sdo = order.get(i);
            DifferentialFunction f = sdo.getOp();
            String[] args = f.argNames();
            INDArray[] in = new INDArray[args.length];
            boolean allStatic = true;
            for (int a = 0; a < args.length; a++) {
                String src = sources.getOrDefault(args[a], args[a]);
                in[a] = valueOf(src, inputs);
                allStatic &= isConstant(src) || statics.contains(src);
            }
            String[] outs = f.outputVariablesNames();
            if (f instanceof Identity) {
                sources.put(outs[0], sources.getOrDefault(args[0], args[0]));
                continue;
            }
            OpContext oc = Nd4j.getExecutioner().buildContext();
            INDArray[] outArrays = new INDArray[outs.length];
            if (f instanceof DynamicCustomOp op) {
                oc.setArgs(in, op.iArgs(), op.dArgs(), op.tArgs(), op.bArgs());
                List<LongShapeDescriptor> shapes = op.calculateOutputShape(oc);
                String src = sources.getOrDefault(args[0], args[0]);
                INDArray view = f instanceof Reshape ? viewOf(in[0], src, shapes.get(0).getShape()) : null;
                if (view != null) {
                    // A reshape of an array the plan owns, in C order, is the same data: a view, not a copy at
                    // every run (reshapes were a sixth of a decoding step's op time on the emoji model, issue 18).
                    values.put(outs[0], view);
                    roots.put(outs[0], roots.getOrDefault(src, src));
                    if (statics.contains(src)) statics.add(outs[0]);
                    oc.purge();                 // not run again: its native bindings go now (see the static ops below)
                    continue;
                }
                for (int o = 0; o < outs.length; o++) {
                    outArrays[o] = allocate(free, shapes.get(o).asDataType(sd.getVariable(outs[o]).dataType()));
                    oc.setOutputArray(o, outArrays[o]);
                }
            } else if (f instanceof Op op) {
                if (op instanceof ReduceOp && args.length == 2 || op instanceof ScalarOp && args.length == 2) {
                    throw new UnsupportedOperationException("op " + f.getOwnName() + " (" + f.opName() + ") takes its axis or scalar as a graph input; Plan runs only ops whose axis or scalar is fixed");
                }
                for (int a = 0; a < args.length; a++) oc.setInputArray(a, in[a]);
                LongShapeDescriptor shape = ((org.nd4j.linalg.api.ops.BaseOp) op).calculateOutputShape(oc).get(0);
                outArrays[0] = allocate(free, shape);
                oc.setOutputArray(0, outArrays[0]);
            } else {
                throw new UnsupportedOperationException("op " + f.getOwnName() + " (" + f.getClass().getSimpleName() + ") is not a custom or legacy op");
            }
            if (f instanceof CustomOp c) Nd4j.exec(c, oc);
            else Nd4j.exec((Op) f, oc);
            for (Listener l : listeners) l.opExecution(sd, at, null, sdo, oc, outArrays);
            for (int o = 0; o < outs.length; o++) values.put(outs[o], outArrays[o]);

            // Shapes are fixed within a plan, so an op that reads only shapes, or only constants, is done for good.
            // A random op is run every time, whatever it reads.
            boolean shapeOnly = f instanceof Shape || f instanceof SizeAt || f instanceof Rank;
            boolean random = f instanceof RandomOp || f.getClass().getName().contains(".random.");
            if (!random && (allStatic || shapeOnly)) {
                statics.addAll(Arrays.asList(outs));
                // Its context is not kept, and M2.1's CpuOpContext.close() frees nothing: purged now, its native
                // bindings do not wait for the collector (a training stage builds a plan for nearly every batch length).
                oc.purge();
            } else {
                int index = steps.size();
                Step step = new Step(sdo, oc, in, outArrays);
                steps.add(step);
                boolean readsPlaceholder = false;
                for (int a = 0; a < args.length; a++) {
                    String src = sources.getOrDefault(args[a], args[a]);
                    if (isPlaceholder(src)) {
                        placeholderSlots.computeIfAbsent(src, k -> new ArrayList<>()).add(new int[]{index, a});
                        readsPlaceholder = true;
                    }
                }
                if (readsPlaceholder) rebound.add(step);
            }
            // Intermediates whose last reader (or whose views' last reader) this was go back to the pool, unless
            // something still needs them.
            for (String arg : new LinkedHashSet<>(Arrays.asList(args))) {
                String src = sources.getOrDefault(arg, arg);
                String root = roots.getOrDefault(src, src);
                INDArray v = values.get(root);
                if (lastUse.getOrDefault(root, -1) == i && v != null && owned.contains(v) && !statics.contains(root) && !isOutput(root)) {
                    free.computeIfAbsent(key(v.dataType(), v.shape()), k -> new ArrayDeque<>()).push(v);
                }
            }
        }
    }

    /** The ops needed for {@code outputs}, in the graph's order (SameDiff adds an op after the ops it reads). */
    private List<SameDiffOp> opsFor(String[] outputs) {
        Set<String> needed = new HashSet<>();
        ArrayDeque<String> todo = new ArrayDeque<>(Arrays.asList(outputs));
        while (!todo.isEmpty()) {
            String var = todo.pop();
            if (!sd.hasVariable(var)) throw new IllegalArgumentException("no variable named " + var + " in the graph");
            String opName = sd.getVariables().get(var).getOutputOfOp();
            if (opName == null || !needed.add(opName)) continue;
            SameDiffOp op = sd.getOps().get(opName);
            if (op.getControlDeps() != null && !op.getControlDeps().isEmpty()) {
                throw new UnsupportedOperationException("op " + opName + " has control dependencies; Plan runs only data-flow graphs");
            }
            if (op.getInputsToOp() != null) todo.addAll(op.getInputsToOp());
        }
        List<SameDiffOp> order = new ArrayList<>();
        for (SameDiffOp op : sd.getOps().values()) if (needed.contains(op.getName())) order.add(op);
        return order;
    }

    /**
     * The index of the last op that reads each variable, through identities and reshapes (which may become views
     * of their input), so an array is reused only when nothing reads it or a view of it any more.
     */
    private Map<String, Integer> lastUses(List<SameDiffOp> order) {
        Map<String, String> alias = new HashMap<>();
        Map<String, Integer> last = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            DifferentialFunction f = order.get(i).getOp();
            for (String arg : f.argNames()) last.put(alias.getOrDefault(arg, arg), i);
            if (f instanceof Identity || f instanceof Reshape) {
                String arg = f.argNames()[0];
                alias.put(f.outputVariablesNames()[0], alias.getOrDefault(arg, arg));
            }
        }
        return last;
    }

    private INDArray valueOf(String name, Map<String, INDArray> inputs) {
        if (values.containsKey(name)) return values.get(name);
        SDVariable v = sd.getVariable(name);
        if (v.isPlaceHolder()) {
            INDArray in = inputs.get(name);
            if (in == null) throw new IllegalArgumentException("no array for placeholder " + name);
            return in;
        }
        INDArray arr = v.getArr();
        if (arr == null) throw new IllegalStateException("variable " + name + " has no value");
        values.put(name, arr);
        if (v.getVariableType() == VariableType.VARIABLE) weights.put(name, arr);
        return arr;
    }

    private boolean isPlaceholder(String name) {
        return sd.hasVariable(name) && sd.getVariable(name).isPlaceHolder();
    }

    private boolean isConstant(String name) {
        return sd.getVariable(name).getVariableType() == VariableType.CONSTANT;
    }

    private boolean isOutput(String name) {
        for (String o : outputs) {
            String src = sources.getOrDefault(o, o);
            if (roots.getOrDefault(src, src).equals(name)) return true;
        }
        return false;
    }

    /** {@code in} reshaped as a view sharing its data, when it is an array the plan made in C order; else null. */
    private INDArray viewOf(INDArray in, String name, long[] shape) {
        String root = roots.getOrDefault(name, name);
        if (isPlaceholder(root) || !owned.contains(values.get(root))) return null;
        if (in.ordering() != 'c' || in.offset() != 0 || !org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(in)) return null;
        INDArray view = in.reshape('c', shape);
        return view.data().address() == in.data().address() && view.offset() == 0 ? view : null;
    }

    private INDArray allocate(Map<String, ArrayDeque<INDArray>> free, LongShapeDescriptor d) {
        if (d.isEmpty()) return Nd4j.create(d);
        ArrayDeque<INDArray> pool = free.get(key(d.dataType(), d.getShape()));
        if (pool != null && !pool.isEmpty()) return pool.pop();
        INDArray a = Nd4j.createUninitializedDetached(d.dataType(), d.getShape());
        owned.add(a);
        return a;
    }

    /** Frees the plan's own arrays at once rather than when the garbage collector finds them. */
    @Override
    public void close() {
        for (Step s : steps) s.context().purge();          // the native arrays bound to it, now rather than at GC
        for (INDArray a : owned) if (a.closeable()) a.close();
        owned.clear();
        steps.clear();
        rebound.clear();
        values.clear();
    }

    private static String key(DataType type, long[] shape) {
        return type + Arrays.toString(shape);
    }

    private static String shapes(Map<String, INDArray> inputs) {
        StringBuilder sb = new StringBuilder();
        inputs.forEach((k, v) -> sb.append(k).append(Arrays.toString(v.shape())).append(' '));
        return sb.toString().trim();
    }

    /**
     * {@code -Dlatte.replay.profile=true}: time spent per op type in replayed plans, printed to stderr when the JVM
     * exits (how the DC-AE training step's slow ops were found, issue 20). Off, it costs one branch per op.
     */
    private static final boolean PROFILE = Boolean.getBoolean("latte.replay.profile");

    private static final class Profile {
        private static final java.util.concurrent.ConcurrentHashMap<String, long[]> TIMES = new java.util.concurrent.ConcurrentHashMap<>();

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                long total = TIMES.values().stream().mapToLong(t -> t[0]).sum();
                System.err.printf("latte.replay.profile: %.3f s in replayed ops%n", total / 1e9);
                TIMES.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).limit(25)
                        .forEach(e -> System.err.printf("  %-28s %9.3f s %5.1f%% %9d calls%n", e.getKey(), e.getValue()[0] / 1e9,
                                100.0 * e.getValue()[0] / Math.max(1, total), e.getValue()[1]));
            }));
        }

        static void add(String op, long nanos) {
            long[] t = TIMES.computeIfAbsent(op, k -> new long[2]);
            synchronized (t) {
                t[0] += nanos;
                t[1]++;
            }
        }
    }
}
