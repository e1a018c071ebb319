package io.latteflow.model.flow;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * Euler integration of the learned velocity from noise (t = 0) to data (t = 1) in T' steps; step i runs only
 * the group that owns t_i = i / T'. With guidance the context holds conditional rows then unconditional rows,
 * evaluated in one batch: {@code v = v_u + s (v_c - v_u)}.
 */
public final class EulerSampler {
    private EulerSampler() {
    }

    /**
     * Sees each finished step; {@code x} and {@code velocity} are the sampler's own arrays, valid only during the call
     * (copy what you keep). The clean-image estimate after step {@code done} is {@code x + (1 - t - dt) velocity}.
     *
     * <pre>{@code
     * StepObserver o = (done, t, x, v) -> System.out.println("step " + done);
     * }</pre>
     */
    @FunctionalInterface
    public interface StepObserver {
        /**
         * @param done     finished steps (1..steps)
         * @param t        time the velocity was evaluated at, (done - 1) / steps
         * @param x        x after this step, (batch, nImg, dim)
         * @param velocity the (guided) velocity used for this step, (batch, nImg, dim)
         */
        void onStep(int done, double t, INDArray x, INDArray velocity);
    }

    /**
     * @param noise   x_0, (batch, nImg, dim)
     * @param ctx     batch rows, or 2 batch rows (conditional then unconditional) when {@code guidance} is given
     * @param guidance per-row scale s, or null for no guidance
     * @param onStep  called with the number of finished steps (progress), may be null
     */
    public static INDArray sample(List<ExpertGroup> groups, TimestepPartition partition, GenerationContext ctx,
                                  INDArray noise, int steps, double[] guidance, IntConsumer onStep) {
        return sample(groups, partition, ctx, noise, steps, guidance, onStep == null ? null : (done, t, x, v) -> onStep.accept(done));
    }

    /** As {@link #sample(List, TimestepPartition, GenerationContext, INDArray, int, double[], IntConsumer)}, showing the observer each step's state. */
    public static INDArray sample(List<ExpertGroup> groups, TimestepPartition partition, GenerationContext ctx,
                                  INDArray noise, int steps, double[] guidance, StepObserver observer) {
        if (steps <= 0) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        int batch = (int) noise.size(0);
        boolean guided = guidance != null;
        if (ctx.batch() != (guided ? 2 * batch : batch)) {
            throw new IllegalArgumentException("context has " + ctx.batch() + " rows for " + batch + " images" + (guided ? " with guidance" : ""));
        }
        INDArray scale = guided ? Nd4j.createFromArray(guidance).castTo(noise.dataType()).reshape(batch, 1, 1) : null;
        INDArray x = noise.dup();
        double dt = 1.0 / steps;
        for (int i = 0; i < steps; i++) {
            // i / steps, not i * dt: the continuous batcher times a step as done / steps, and i * (1.0 / 98) falls just
            // below 0.5 at i = 49 and would pick another group (found by the PyTorch peer, bench/torch_peer.py).
            double t = (double) i / steps;
            ExpertGroup group = groups.get(partition.groupAt(t));
            double[] times = new double[ctx.batch()];
            java.util.Arrays.fill(times, t);
            INDArray v = group.velocity(guided ? Nd4j.concat(0, x, x) : x, times, ctx);
            if (guided) {
                v = guide(v.get(NDArrayIndex.interval(0, batch), NDArrayIndex.all(), NDArrayIndex.all()),
                        v.get(NDArrayIndex.interval(batch, 2 * batch), NDArrayIndex.all(), NDArrayIndex.all()), scale);
            }
            step(x, v, dt);
            if (observer != null) observer.onStep(i + 1, t, x, v);
        }
        return x;
    }

    /** Classifier-free guidance, v = v_u + s (v_c - v_u), with s broadcast over (rows, 1, 1) or a scalar. */
    public static INDArray guide(INDArray conditional, INDArray unconditional, INDArray scale) {
        return unconditional.add(conditional.sub(unconditional).muli(scale));
    }

    /** One Euler step in place, x += v dt; v is left as it is (observers read it). */
    public static INDArray step(INDArray x, INDArray v, double dt) {
        return x.addi(v.mul(dt));
    }
}
