package io.latteflow.model.nn;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counts transformer-layer evaluations by watching which layers' weights the executed ops actually read,
 * so the count measures what the engine ran rather than what the sampler meant to run.
 * A graph call that touches weights of n distinct layers adds n.
 */
public final class LayerEvalCounter extends BaseListener {
    private static final Pattern LAYER = Pattern.compile("^(?:gen|model)\\.layers\\.(\\d+)\\.");
    private final ThreadLocal<Set<Integer>> touched = ThreadLocal.withInitial(HashSet::new);
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong calls = new AtomicLong();

    @Override
    public boolean isActive(Operation operation) {
        return true;
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx, INDArray[] outputs) {
        if (op.getInputsToOp() == null) return;
        for (String input : op.getInputsToOp()) {
            Matcher m = LAYER.matcher(input);
            if (m.find()) touched.get().add(Integer.parseInt(m.group(1)));
        }
    }

    /** Call before a graph execution. */
    public void begin() {
        touched.get().clear();
    }

    /** Call after a graph execution; returns the layers that execution evaluated. */
    public int end() {
        int n = touched.get().size();
        touched.get().clear();
        total.addAndGet(n);
        calls.incrementAndGet();
        return n;
    }

    public long layerEvaluations() {
        return total.get();
    }

    public long graphCalls() {
        return calls.get();
    }

    public void reset() {
        total.set(0);
        calls.set(0);
    }
}
