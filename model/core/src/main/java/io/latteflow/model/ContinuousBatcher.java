package io.latteflow.model;

import io.latteflow.model.flow.ExpertGroup;
import io.latteflow.model.flow.GenerationContext;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * Continuous batching across expert groups. Each sampling step of LaTtE-Flow runs one group of M layers, so
 * images that are at different steps, but at steps the same group owns, can share one model call. Every
 * {@link #tick()} runs the group that owns the current step of the oldest image in flight, on every image in
 * flight whose current step that group owns, and advances them one Euler step; images added between ticks join
 * at the next one instead of waiting for a whole batch to finish. An image comes out as {@link LatteFlow#generate}
 * draws it (same noise, steps and guidance; equal up to float rounding).
 *
 * <pre>{@code
 * ContinuousBatcher<String> batcher = new ContinuousBatcher<>(flow, 32);
 * batcher.add(GenerationRequest.of("red apple").withSeed(1), "r1");
 * while (batcher.inFlight() > 0) {
 *     for (ContinuousBatcher.Done<String> d : batcher.tick()) save(d.tag(), d.image().png());
 *     // add new requests here: they join at the next tick
 * }
 * }</pre>
 *
 * Not thread safe: one thread adds and ticks.
 *
 * @param <T> what the caller attaches to a request to find it again
 */
public final class ContinuousBatcher<T> {
    private final LatteFlow flow;
    private final LatteConfig c;
    private final int maxImages;
    private final List<Flight<T>> inFlight = new ArrayList<>();
    private long ticks, rowsRun;

    /** A finished image with the caller's tag. */
    public record Done<T>(T tag, GeneratedImage image) {
    }

    private static final class Flight<T> {
        final T tag;
        final GenerationRequest request;
        final int steps;
        final double guidance;
        final boolean guided;
        final GenerationContext ctx;                                             // 1 row, or 2 (cond, uncond) when guided
        INDArray x;                                                              // (1, nImg, dim)
        int done;

        Flight(T tag, GenerationRequest request, int steps, double guidance, GenerationContext ctx, INDArray x) {
            this.tag = tag;
            this.request = request;
            this.steps = steps;
            this.guidance = guidance;
            this.guided = guidance != 1.0;
            this.ctx = ctx;
            this.x = x;
        }

        double t() {
            return (double) done / steps;
        }
    }

    /** @param maxImages most images advanced in one tick (the batch size of a model call is twice that with guidance) */
    public ContinuousBatcher(LatteFlow flow, int maxImages) {
        if (maxImages < 1) throw new IllegalArgumentException("maxImages must be >= 1, got " + maxImages);
        this.flow = flow;
        this.c = flow.config();
        this.maxImages = maxImages;
    }

    /** Prefills the request's context now; its first step runs at a coming tick. */
    public void add(GenerationRequest r, T tag) {
        int steps = r.steps() == null ? c.defaultSteps() : r.steps();
        double guidance = r.guidance() == null ? c.defaultCfg() : r.guidance();
        List<int[]> contexts = new ArrayList<>(List.of(flow.captionContext(r.prompt())));
        if (guidance != 1.0) contexts.add(flow.captionContext(""));
        GenerationContext ctx = flow.contextCache().contexts(c, contexts, flow.model().vlm(), flow.tokenizer().padId());
        int per = c.latentTokens() * c.latentDim();
        float[] noise = new float[per];
        Random random = new Random(r.seed());
        for (int i = 0; i < per; i++) noise[i] = (float) random.nextGaussian();
        inFlight.add(new Flight<>(tag, r, steps, guidance, ctx, Nd4j.create(noise, new long[]{1, c.latentTokens(), c.latentDim()}, 'c')));
    }

    public int inFlight() {
        return inFlight.size();
    }

    /** Model calls so far. */
    public long ticks() {
        return ticks;
    }

    /** Images advanced so far, summed over ticks (rowsRun / ticks is the mean batch). */
    public long imagesAdvanced() {
        return rowsRun;
    }

    /** One model call: advances every image in flight whose step the chosen group owns; returns the finished ones. */
    public List<Done<T>> tick() {
        if (inFlight.isEmpty()) return List.of();
        int group = flow.model().partition().groupAt(inFlight.get(0).t());
        List<Flight<T>> riders = new ArrayList<>();
        for (Flight<T> f : inFlight) {
            if (riders.size() < maxImages && flow.model().partition().groupAt(f.t()) == group) riders.add(f);
        }
        List<INDArray> xs = new ArrayList<>();
        List<GenerationContext> ctxs = new ArrayList<>();
        List<Double> times = new ArrayList<>();
        for (Flight<T> f : riders) {
            for (int row = 0; row < (f.guided ? 2 : 1); row++) {
                xs.add(f.x);
                times.add(f.t());
            }
            ctxs.add(f.ctx);
        }
        ExpertGroup g = flow.model().groups().get(group);
        INDArray v = g.velocity(Nd4j.concat(0, xs.toArray(new INDArray[0])), times.stream().mapToDouble(Double::doubleValue).toArray(),
                GenerationContext.concat(ctxs));                                  // (rows, nImg, dim)
        ticks++;
        rowsRun += riders.size();
        int row = 0;
        List<Done<T>> finished = new ArrayList<>();
        for (Flight<T> f : riders) {
            INDArray vi = v.get(NDArrayIndex.interval(row, row + 1), NDArrayIndex.all(), NDArrayIndex.all());
            if (f.guided) {
                INDArray vu = v.get(NDArrayIndex.interval(row + 1, row + 2), NDArrayIndex.all(), NDArrayIndex.all());
                vi = vu.add(vi.sub(vu).muli(f.guidance));
            }
            row += f.guided ? 2 : 1;
            f.x = f.x.add(vi.mul(1.0 / f.steps));
            f.done++;
        }
        for (Iterator<Flight<T>> it = inFlight.iterator(); it.hasNext(); ) {
            Flight<T> f = it.next();
            if (f.done < f.steps) continue;
            it.remove();
            INDArray pixels = flow.model().codec().decode(f.x);                  // (1, 3, size, size)
            INDArray img = pixels.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).dup();
            INDArray latents = f.x.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all()).dup();
            finished.add(new Done<>(f.tag, new GeneratedImage(f.request, f.steps, f.guidance, img, latents)));
        }
        return finished;
    }
}
