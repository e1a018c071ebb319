package io.latteflow.model;

import io.latteflow.model.flow.EulerSampler;
import io.latteflow.model.flow.ExpertGroup;
import io.latteflow.model.flow.GenerationContext;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;

/**
 * The one sampling pipeline of a model (issue 17): a request's defaults, its seeded noise, its conditional and
 * unconditional contexts, one Euler step of the group that owns the current time with classifier-free guidance,
 * and decoding. {@link LatteFlow#generate} samples a batch with it from noise to image in one go; the
 * {@link ContinuousBatcher} moves images at different steps through it a step at a time. Both therefore draw the
 * same image from the same request.
 *
 * <pre>{@code
 * SamplingBatch s = new SamplingBatch(flow);
 * SamplingBatch.Image img = s.image(GenerationRequest.of("red apple").withSeed(1));
 * INDArray x = s.noise(List.of(img));                  // (1, nImg, dim)
 * }</pre>
 */
final class SamplingBatch {
    private final LatteFlow flow;
    private final LatteModel model;
    private final LatteConfig c;

    SamplingBatch(LatteFlow flow) {
        this.flow = flow;
        this.model = flow.model();
        this.c = flow.config();
    }

    /** A request with the model's defaults filled in. */
    record Image(GenerationRequest request, int steps, double guidance) {
        boolean guided() {
            return guidance != 1.0;
        }
    }

    /** @throws IllegalArgumentException when the request asks for more work than the model's limits allow */
    Image image(GenerationRequest r) {
        String why = flow.limits().workRefusal(r);
        if (why != null) throw new IllegalArgumentException(why);
        return new Image(r, r.steps() == null ? c.defaultSteps() : r.steps(), r.guidance() == null ? c.defaultCfg() : r.guidance());
    }

    /**
     * x_0 of each image, (images, nImg, dim): the same seed gives the same noise in any batch. {@link SeededNoise}
     * uses all 64 bits of the seed (java.util.Random kept 48: issue 19).
     */
    INDArray noise(List<Image> images) {
        int per = c.latentTokens() * c.latentDim();
        float[] noise = new float[images.size() * per];
        for (int b = 0; b < images.size(); b++) {
            SeededNoise random = new SeededNoise(images.get(b).request().seed());
            for (int i = 0; i < per; i++) noise[b * per + i] = (float) random.nextGaussian();
        }
        return Nd4j.create(noise, new long[]{images.size(), c.latentTokens(), c.latentDim()}, 'c');
    }

    /**
     * The prefilled contexts of the captions, one row each, and with {@code unconditional} one empty-caption row per
     * image after them: (conditional rows, then unconditional rows), the layout {@link #guide} reads.
     */
    GenerationContext contexts(List<Image> images, boolean unconditional) {
        List<int[]> contexts = new ArrayList<>();
        for (Image i : images) contexts.add(flow.captionContext(i.request().prompt()));
        if (unconditional) for (int b = 0; b < images.size(); b++) contexts.add(flow.captionContext(""));
        return flow.contextCache().contexts(c, contexts, model.vlm(), flow.tokenizer().padId());
    }

    /** The group that owns time t. */
    int groupAt(double t) {
        return model.partition().groupAt(t);
    }

    /** The velocity of group {@code group} at times {@code t} for latents x, (rows, nImg, dim), one context row each. */
    INDArray velocity(int group, INDArray x, double[] t, GenerationContext ctx) {
        ExpertGroup g = model.groups().get(group);
        return g.velocity(x, t, ctx);
    }

    /** Samples images that share a step count from noise to data; see {@link EulerSampler}. */
    INDArray sample(List<Image> images, INDArray x0, EulerSampler.StepObserver observer) {
        int steps = images.get(0).steps();
        double[] guidance = images.stream().mapToDouble(Image::guidance).toArray();
        boolean guided = images.stream().anyMatch(Image::guided);
        return EulerSampler.sample(model.groups(), model.partition(), contexts(images, guided), x0, steps, guided ? guidance : null, observer);
    }

    /** Pixels of latents x, (rows, 3, size, size). */
    INDArray decode(INDArray x) {
        return model.codec().decode(x);
    }

    /** Row b of sampled latents x (and their decoded pixels) as the image of its request. */
    static GeneratedImage result(Image image, INDArray x, INDArray pixels, int b) {
        INDArray img = pixels.get(NDArrayIndex.point(b), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).dup();
        INDArray latents = x.get(NDArrayIndex.point(b), NDArrayIndex.all(), NDArrayIndex.all()).dup();
        return new GeneratedImage(image.request(), image.steps(), image.guidance(), img, latents);
    }
}
