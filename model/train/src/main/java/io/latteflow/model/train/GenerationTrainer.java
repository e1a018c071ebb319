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
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Flow-matching training of the generation path with the per-group loss (eq. 1): each sample is given an expert
 * group ({@link GroupSampling}), draws t inside that group's widened interval, and the group regresses its velocity
 * onto u = x1 - x0 at x_t = t x1 + (1 - t) x0. The step minimises the batch mean of these losses, so a weight
 * shared by the groups gets each group's gradient weighted by its share of the batch. A share of captions is
 * replaced by the empty caption (for guidance). Couple updates only {@code gen.*} weights (the VLM stays
 * bit-identical); Blend updates every weight the step uses.
 *
 * <pre>{@code
 * GenerationTrainer trainer = new GenerationTrainer(model, 1e-3, 7, empty, GroupSampling.PER_SAMPLE);
 * double loss = trainer.step(captionIds, model.codec().encode(images)).loss();
 * }</pre>
 */
public final class GenerationTrainer {
    private final LatteModel model;
    private final LatteConfig c;
    private final Adam adam;
    private final long seed;
    private final int[] emptyContext;
    private final GroupSampling sampling;
    private long steps;

    /**
     * @param emptyContext token ids of the null condition (the empty caption's context)
     * @param sampling     whether a step trains every group on its share of the batch or one group on all of it
     */
    public GenerationTrainer(LatteModel model, double learningRate, long seed, int[] emptyContext, GroupSampling sampling) {
        this.model = model;
        this.c = model.config();
        this.adam = new Adam(model.params(), learningRate);
        this.seed = seed;
        this.emptyContext = emptyContext;
        this.sampling = sampling;
    }

    /** A trainer that trains every group in every step ({@link GroupSampling#PER_SAMPLE}, as the paper does). */
    public GenerationTrainer(LatteModel model, double learningRate, long seed, int[] emptyContext) {
        this(model, learningRate, seed, emptyContext, GroupSampling.PER_SAMPLE);
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

    /** What a step did: the batch's mean loss before the update, and the group it trained (null: every group). */
    public record Step(double loss, Integer group) {
    }

    /**
     * @param contexts context token ids of each caption ({@code <|im_start|> caption <|vision_start|>})
     * @param x1       latents of the images, (batch, nImg, dim)
     */
    public Step step(List<int[]> contexts, INDArray x1) {
        Random random = stepRandom();
        if (sampling == GroupSampling.PER_STEP) return step(contexts, x1, random.nextInt(c.groups()), random);
        int[] groupOf = new int[contexts.size()];
        int offset = random.nextInt(c.groups());                              // which groups get the remainder rotates
        for (int b = 0; b < groupOf.length; b++) groupOf[b] = (b + offset) % c.groups();
        return step(contexts, x1, groupOf, random);
    }

    /** A step that trains the given group on the whole batch. */
    public Step step(List<int[]> contexts, INDArray x1, int group) {
        return step(contexts, x1, group, stepRandom());
    }

    private Step step(List<int[]> contexts, INDArray x1, int group, Random random) {
        int[] groupOf = new int[contexts.size()];
        Arrays.fill(groupOf, group);
        Step s = step(contexts, x1, groupOf, random);
        return new Step(s.loss(), group);
    }

    /** One update: sample b trains group {@code groupOf[b]}; the groups' gradients are summed weighted by their rows. */
    private Step step(List<int[]> contexts, INDArray x1, int[] groupOf, Random random) {
        steps++;
        int batch = contexts.size();
        if (x1.size(0) != batch) throw new IllegalArgumentException(batch + " captions for " + x1.size(0) + " images");
        List<int[]> ctx = new ArrayList<>(contexts);
        for (int b = 0; b < batch; b++) if (random.nextDouble() < c.condDropout()) ctx.set(b, emptyContext);
        double[] t = new double[batch];
        float[] tt = new float[batch];
        for (int b = 0; b < batch; b++) {
            double[] range = model.partition().trainingInterval(groupOf[b]);
            tt[b] = (float) (t[b] = range[0] + (range[1] - range[0]) * random.nextDouble());
        }
        INDArray x0 = Nd4j.create(gaussian(x1.length(), random), x1.shape(), 'c');
        INDArray tb = Nd4j.create(tt, new long[]{batch, 1, 1}, 'c');
        INDArray xt = x1.mul(tb).addi(x0.mul(tb.rsub(1.0)));                   // (batch, nImg, dim)
        INDArray target = x1.sub(x0);

        Map<String, INDArray> gradients = new HashMap<>();
        double loss = 0;
        for (int g = 0; g < c.groups(); g++) {
            List<Integer> rows = new ArrayList<>();
            for (int b = 0; b < batch; b++) if (groupOf[b] == g) rows.add(b);
            if (rows.isEmpty()) continue;
            double share = rows.size() / (double) batch;
            OutAndGrad r = groupGradients(model.groups().get(g), rows, ctx, xt, t, target);
            loss += share * r.getOutputs().get("loss").getDouble(0);
            for (Map.Entry<String, INDArray> e : r.getGradients().entrySet()) {
                if (e.getValue() == null) continue;
                INDArray weighted = e.getValue().mul(share);                     // a copy: the next graph call reuses its buffers
                gradients.merge(e.getKey(), weighted, INDArray::addi);
            }
        }
        adam.step(gradients);
        return new Step(loss, null);
    }

    /** The loss and gradients of one group on its rows of the batch. */
    private OutAndGrad groupGradients(ExpertGroup g, List<Integer> rows, List<int[]> ctx, INDArray xt, double[] t, INDArray target) {
        boolean all = rows.size() == ctx.size();
        int[] idx = rows.stream().mapToInt(Integer::intValue).toArray();
        List<int[]> rowCtx = new ArrayList<>();
        double[] rowT = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            rowCtx.add(ctx.get(rows.get(i)));
            rowT[i] = t[rows.get(i)];
        }
        INDArray rowXt = all ? xt : rows(xt, idx), rowTarget = all ? target : rows(target, idx);
        PromptBatch prompts = PromptBatch.of(c, rowCtx, false, 0);
        Map<String, INDArray> in;
        if (c.variant() == Variant.COUPLE) {
            in = g.inputs(rowXt, rowT, GenerationContext.of(c, prompts, model.vlm().prefill(prompts, null, g.endLayer(), false)));
        } else {
            INDArray[] rope = GenerationContext.imageRope(c, prompts.nextPos());
            in = g.imageInputs(rowXt, rowT, prompts.keyMask(), rope[0], rope[1]);
            in.putAll(model.vlm().prefillInputs(prompts, null));
        }
        in.put("target", rowTarget);
        Net net = g.trainingGraph();
        return net.gradients(in, "loss", trainable(net));
    }

    /** The given rows of a (batch, nImg, dim) array. */
    private static INDArray rows(INDArray a, int[] idx) {
        return Nd4j.pullRows(a.reshape(a.size(0), -1), 1, idx).reshape(idx.length, a.size(1), a.size(2));
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
