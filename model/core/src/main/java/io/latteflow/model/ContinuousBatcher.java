package io.latteflow.model;

import io.latteflow.model.flow.EulerSampler;
import io.latteflow.model.flow.GenerationContext;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

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
    private final SamplingBatch sampling;
    private final int maxImages;
    private final List<Flight<T>> inFlight = new ArrayList<>();
    private long ticks, rowsRun;

    /** A finished image with the caller's tag. */
    public record Done<T>(T tag, GeneratedImage image) {
    }

    private static final class Flight<T> {
        final T tag;
        final SamplingBatch.Image image;
        final GenerationContext ctx;                                             // 1 row, or 2 (cond, uncond) when guided
        final INDArray x;                                                        // (1, nImg, dim), stepped in place
        int done;

        Flight(T tag, SamplingBatch.Image image, GenerationContext ctx, INDArray x) {
            this.tag = tag;
            this.image = image;
            this.ctx = ctx;
            this.x = x;
        }

        double t() {
            return (double) done / image.steps();
        }
    }

    /** @param maxImages most images advanced in one tick (the batch size of a model call is twice that with guidance) */
    public ContinuousBatcher(LatteFlow flow, int maxImages) {
        if (maxImages < 1) throw new IllegalArgumentException("maxImages must be >= 1, got " + maxImages);
        this.sampling = new SamplingBatch(flow);
        this.maxImages = maxImages;
    }

    /** Prefills the request's context now; its first step runs at a coming tick. */
    public void add(GenerationRequest r, T tag) {
        SamplingBatch.Image image = sampling.image(r);
        List<SamplingBatch.Image> one = List.of(image);
        inFlight.add(new Flight<>(tag, image, sampling.contexts(one, image.guided()), sampling.noise(one)));
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
        int group = sampling.groupAt(inFlight.get(0).t());
        List<Flight<T>> riders = new ArrayList<>();
        for (Flight<T> f : inFlight) {
            if (riders.size() < maxImages && sampling.groupAt(f.t()) == group) riders.add(f);
        }
        List<INDArray> xs = new ArrayList<>();
        List<GenerationContext> ctxs = new ArrayList<>();
        List<Double> times = new ArrayList<>();
        for (Flight<T> f : riders) {
            for (int row = 0; row < (f.image.guided() ? 2 : 1); row++) {
                xs.add(f.x);
                times.add(f.t());
            }
            ctxs.add(f.ctx);
        }
        INDArray v = sampling.velocity(group, Nd4j.concat(0, xs.toArray(new INDArray[0])),
                times.stream().mapToDouble(Double::doubleValue).toArray(), GenerationContext.concat(ctxs));  // (rows, nImg, dim)
        ticks++;
        rowsRun += riders.size();
        int row = 0;
        List<Done<T>> finished = new ArrayList<>();
        for (Flight<T> f : riders) {
            INDArray vi = v.get(NDArrayIndex.interval(row, row + 1), NDArrayIndex.all(), NDArrayIndex.all());
            if (f.image.guided()) {
                vi = EulerSampler.guide(vi, v.get(NDArrayIndex.interval(row + 1, row + 2), NDArrayIndex.all(), NDArrayIndex.all()),
                        Nd4j.scalar(vi.dataType(), f.image.guidance()));
            }
            row += f.image.guided() ? 2 : 1;
            EulerSampler.step(f.x, vi, 1.0 / f.image.steps());
            f.done++;
        }
        for (Iterator<Flight<T>> it = inFlight.iterator(); it.hasNext(); ) {
            Flight<T> f = it.next();
            if (f.done < f.image.steps()) continue;
            it.remove();
            finished.add(new Done<>(f.tag, SamplingBatch.result(f.image, f.x, sampling.decode(f.x), 0)));
        }
        return finished;
    }
}
