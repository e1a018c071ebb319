package io.latteflow.model.train;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteModel;
import io.latteflow.model.Variant;
import io.latteflow.model.flow.ExpertGroup;
import io.latteflow.model.flow.GenerationContext;
import io.latteflow.model.nn.Net;
import io.latteflow.model.vlm.PromptBatch;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Flow-matching training of the generation path with the per-group loss (eq. 1): each step draws one expert
 * group, draws t for every sample inside that group's widened interval, and regresses the group's velocity onto
 * u = x1 - x0 at x_t = t x1 + (1 - t) x0. A share of captions is replaced by the empty caption (for guidance).
 * Couple updates only {@code gen.*} weights (the VLM stays bit-identical); Blend updates every weight the step uses.
 *
 * <pre>{@code
 * GenerationTrainer trainer = new GenerationTrainer(model, 1e-3, 7);
 * double loss = trainer.step(captionIds, model.codec().encode(images));
 * }</pre>
 */
public final class GenerationTrainer {
    private final LatteModel model;
    private final LatteConfig c;
    private final Adam adam;
    private final long seed;
    private final int[] emptyContext;
    private long steps;

    /** @param emptyContext token ids of the null condition (the empty caption's context) */
    public GenerationTrainer(LatteModel model, double learningRate, long seed, int[] emptyContext) {
        this.model = model;
        this.c = model.config();
        this.adam = new Adam(model.params(), learningRate);
        this.seed = seed;
        this.emptyContext = emptyContext;
    }

    public Adam adam() {
        return adam;
    }

    /** Steps taken so far; each step's group, timesteps, noise and dropout depend only on the seed and this count. */
    public long stepsDone() {
        return steps;
    }

    /** Continues as if {@code steps} steps had been taken (after restoring the weights and {@link #adam()}). */
    public void resumeAt(long steps) {
        this.steps = steps;
    }

    /** What a step did: the loss before the update and the group it trained. */
    public record Step(double loss, int group) {
    }

    /**
     * @param contexts context token ids of each caption ({@code <|im_start|> caption <|vision_start|>})
     * @param x1       latents of the images, (batch, nImg, dim)
     */
    public Step step(List<int[]> contexts, INDArray x1) {
        Random random = stepRandom();
        return step(contexts, x1, random.nextInt(c.groups()), random);
    }

    /** A step that trains the given group. */
    public Step step(List<int[]> contexts, INDArray x1, int group) {
        return step(contexts, x1, group, stepRandom());
    }

    private Step step(List<int[]> contexts, INDArray x1, int group, Random random) {
        steps++;
        int batch = contexts.size();
        if (x1.size(0) != batch) throw new IllegalArgumentException(batch + " captions for " + x1.size(0) + " images");
        List<int[]> ctx = new ArrayList<>(contexts);
        for (int b = 0; b < batch; b++) if (random.nextDouble() < c.condDropout()) ctx.set(b, emptyContext);
        double[] range = model.partition().trainingInterval(group);
        double[] t = new double[batch];
        float[] tt = new float[batch];
        for (int b = 0; b < batch; b++) tt[b] = (float) (t[b] = range[0] + (range[1] - range[0]) * random.nextDouble());
        INDArray x0 = Nd4j.create(gaussian(x1.length(), random), x1.shape(), 'c');
        INDArray tb = Nd4j.create(tt, new long[]{batch, 1, 1}, 'c');
        INDArray xt = x1.mul(tb).addi(x0.mul(tb.rsub(1.0)));
        INDArray target = x1.sub(x0);

        ExpertGroup g = model.groups().get(group);
        PromptBatch prompts = PromptBatch.of(c, ctx, false, 0);
        Map<String, INDArray> in;
        if (c.variant() == Variant.COUPLE) {
            in = g.inputs(xt, t, GenerationContext.of(c, prompts, model.vlm().prefill(prompts, null, g.endLayer(), false)));
        } else {
            INDArray[] rope = GenerationContext.imageRope(c, prompts.nextPos());
            in = g.imageInputs(xt, t, prompts.keyMask(), rope[0], rope[1]);
            in.putAll(model.vlm().prefillInputs(prompts, null));
        }
        in.put("target", target);
        Net net = g.trainingGraph();
        OutAndGrad r = Gradients.compute(net, in, "loss", trainable(net));
        adam.step(r.getGradients());
        return new Step(r.getOutputs().get("loss").getDouble(0), group);
    }

    private List<String> trainable(Net net) {
        List<String> names = new ArrayList<>();
        for (SDVariable v : net.sd.variables()) {
            if (v.getVariableType() != VariableType.VARIABLE) continue;
            if (c.variant() == Variant.BLEND || v.name().startsWith("gen.")) names.add(v.name());
        }
        return names;
    }

    /** The random stream of the next step: resuming at step n replays exactly what an unbroken run draws. */
    private Random stepRandom() {
        return BatchOrder.seeded(seed, steps);
    }

    private static float[] gaussian(long n, Random random) {
        float[] z = new float[Math.toIntExact(n)];
        for (int i = 0; i < z.length; i++) z[i] = (float) random.nextGaussian();
        return z;
    }
}
