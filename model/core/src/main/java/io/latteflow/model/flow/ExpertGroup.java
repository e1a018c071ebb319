package io.latteflow.model.flow;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.Variant;
import io.latteflow.model.nn.LayerEvalCounter;
import io.latteflow.model.nn.Net;
import io.latteflow.model.nn.ParamStore;
import io.latteflow.model.vlm.VisionLanguageModel;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

/**
 * Expert group k: layers kM .. kM+M-1 with their own input projection (latent patch to d, plus a fixed 2D
 * position embedding) and output head
 * (norm, adaLN shift/scale, linear to latent patch). Predicts the velocity for the timesteps it owns.
 * Weights {@code gen.groups.k.*}, {@code gen.layers.l.*}, the shared {@code gen.time_embed.*}.
 */
public final class ExpertGroup {
    private final LatteConfig c;
    private final ParamStore params;
    private final int index;
    private final LayerEvalCounter counter;
    private Net graph, training;

    public ExpertGroup(LatteConfig c, ParamStore params, int index, LayerEvalCounter counter) {
        this.c = c;
        this.params = params;
        this.index = index;
        this.counter = counter;
    }

    public int index() {
        return index;
    }

    public int firstLayer() {
        return index * c.layersPerGroup();
    }

    public int endLayer() {
        return firstLayer() + c.layersPerGroup();
    }

    /** Velocity (batch, nImg, latentDim) at times t for latents x (batch, nImg, latentDim). */
    public INDArray velocity(INDArray x, double[] t, GenerationContext ctx) {
        Map<String, INDArray> in = inputs(x, t, ctx);
        Net net = graph();
        counter.begin();
        INDArray v = net.output(in, "velocity").get("velocity");
        counter.end();
        return v;
    }

    /** Placeholders of the graph for a batch whose context K/V were prefilled. */
    public Map<String, INDArray> inputs(INDArray x, double[] t, GenerationContext ctx) {
        Map<String, INDArray> in = imageInputs(x, t, ctx.keyMask(), ctx.imageCos(), ctx.imageSin());
        for (int l = firstLayer(); l < endLayer(); l++) {
            in.put("ck" + l, ctx.keys()[l]);
            in.put("cv" + l, ctx.values()[l]);
        }
        return in;
    }

    public Map<String, INDArray> imageInputs(INDArray x, double[] t, INDArray keyMask, INDArray cos, INDArray sin) {
        Map<String, INDArray> in = new HashMap<>();
        in.put("x", x);
        in.put("tfreq", TimestepEmbedder.features(t, c.timeEmbedDim()));
        in.put("cmask", keyMask);
        in.put("icos", cos);
        in.put("isin", sin);
        return in;
    }

    /** The sampling graph: context K/V fed as placeholders; outputs "velocity" (and, given "target", "loss"). */
    public synchronized Net graph() {
        if (graph == null) {
            Net net = new Net(params);
            SDVariable[] ck = new SDVariable[c.numLayers()], cv = new SDVariable[c.numLayers()];
            for (int l = firstLayer(); l < endLayer(); l++) {
                ck[l] = net.input("ck" + l, -1, c.numKvHeads(), -1, c.headDim());
                cv[l] = net.input("cv" + l, -1, c.numKvHeads(), -1, c.headDim());
            }
            build(net, ck, cv);
            net.sd.setListeners(counter);
            graph = net;
        }
        return graph;
    }

    /**
     * The graph a training step differentiates, built {@link Net#forTraining}. Couple: as {@link #graph()} (the frozen
     * VLM's K/V are inputs).
     * Blend: the prefill of layers 0..end-1 is part of the graph, so the loss reaches the shared VLM weights;
     * its placeholders are those of {@link VisionLanguageModel#buildPrefill} plus the image inputs.
     */
    public synchronized Net trainingGraph() {
        if (training == null) {
            Net net = Net.forTraining(params);
            SDVariable[] ck = new SDVariable[c.numLayers()], cv = new SDVariable[c.numLayers()];
            if (c.variant() == Variant.COUPLE) {
                for (int l = firstLayer(); l < endLayer(); l++) {
                    ck[l] = net.input("ck" + l, -1, c.numKvHeads(), -1, c.headDim());
                    cv[l] = net.input("cv" + l, -1, c.numKvHeads(), -1, c.headDim());
                }
            } else {
                VisionLanguageModel.buildPrefill(net, c, false, true, endLayer(), ck, cv);
            }
            build(net, ck, cv);
            training = net;
        }
        return training;
    }

    private void build(Net net, SDVariable[] ck, SDVariable[] cv) {
        int d = c.hiddenSize();
        SDVariable x = net.input("x", -1, c.latentTokens(), c.latentDim());
        SDVariable tfreq = net.input("tfreq", -1, c.timeEmbedDim());
        SDVariable cos = net.input("icos", -1, 1, c.latentTokens(), c.headDim());
        SDVariable sin = net.input("isin", -1, 1, c.latentTokens(), c.headDim());
        SDVariable cmask = net.input("cmask", -1, 1, 1, -1);
        SDVariable ht = TimestepEmbedder.embed(net, tfreq);                      // (batch, d)
        String g = "gen.groups." + index;
        SDVariable pos = net.sd.constant("pos_embed", PositionEmbedding.sincos2d(c.latentGrid(), d));
        SDVariable h = net.linear(x, g + ".input_proj", true).add(pos);          // (batch, nImg, d)
        SDVariable previous = null;
        for (int l = firstLayer(); l < endLayer(); l++) {
            GenerationLayer.Out o = GenerationLayer.forward(net, c, l, h, ht, cos, sin, ck[l], cv[l], cmask, previous);
            h = o.hidden();
            previous = c.residualAttention() ? o.imageLogits() : null;
        }
        SDVariable[] m = GenerationLayer.modulation(net, ht, g + ".adaLN_out", 2, d);
        SDVariable y = GenerationLayer.modulate(net, net.rmsNorm(h, g + ".norm_out.weight", c.rmsNormEps()), m[0], m[1]);
        SDVariable v = net.linear(y, g + ".proj_out", true).rename("velocity");  // (batch, nImg, latentDim)
        SDVariable target = net.input("target", -1, c.latentTokens(), c.latentDim());
        SDVariable diff = v.sub(target);
        diff.mul(diff).mean().rename("loss");
    }
}
