package io.latteflow.model.flow;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteWeights;
import io.latteflow.model.Variant;
import io.latteflow.model.nn.Net;
import io.latteflow.model.nn.ParamStore;
import io.latteflow.model.nn.Rope;
import io.latteflow.model.vlm.TextDecoder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs VLM layer l on the joint sequence [context; image] under LaTtE's mask (context causal and blind to the
 * image, image tokens see everything) and compares with the generation layer that reads the context's K/V.
 */
class GenerationLayerTest {
    static final int B = 2, NC = 5, LAYER = 1;

    final LatteConfig c = LatteConfig.tiny();
    final int nx = c.latentTokens(), d = c.hiddenSize(), dh = c.headDim();

    @ParameterizedTest
    @EnumSource(Variant.class)
    void freshGenerationLayerComputesWhatItsVlmLayerComputesOnTheSameTokensAndMask(Variant variant) {
        Harness h = new Harness(c.withVariant(variant));
        INDArray ctx = Nd4j.randn(B, NC, d), img = Nd4j.randn(B, nx, d);
        INDArray joint = h.joint(ctx, img);
        INDArray ctxOnly = h.contextOnly(ctx);
        INDArray gen = h.generation(img, ctxOnly, Nd4j.randn(B, c.numHeads(), nx, nx));
        INDArray vlmImage = joint.get(NDArrayIndex.all(), NDArrayIndex.interval(NC, NC + nx), NDArrayIndex.all());
        assertTrue(vlmImage.equalsWithEps(gen, 1e-4), "generation layer differs from VLM layer: max diff "
                + vlmImage.sub(gen).amaxNumber());
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void changingAnImageTokenNeverChangesAnyContextOutput(Variant variant) {
        Harness h = new Harness(c.withVariant(variant));
        INDArray ctx = Nd4j.randn(B, NC, d), img = Nd4j.randn(B, nx, d);
        INDArray before = h.joint(ctx, img).get(NDArrayIndex.all(), NDArrayIndex.interval(0, NC), NDArrayIndex.all()).dup();
        INDArray changed = img.dup();
        changed.putScalar(new long[]{0, nx - 1, 3}, 100f);
        changed.putScalar(new long[]{1, 0, 0}, -50f);
        INDArray after = h.joint(ctx, changed).get(NDArrayIndex.all(), NDArrayIndex.interval(0, NC), NDArrayIndex.all());
        assertEquals(before, after);
        INDArray imageAfter = h.joint(ctx, changed).get(NDArrayIndex.all(), NDArrayIndex.interval(NC, NC + nx), NDArrayIndex.all());
        assertTrue(imageAfter.sub(h.joint(ctx, img).get(NDArrayIndex.all(), NDArrayIndex.interval(NC, NC + nx), NDArrayIndex.all())).amaxNumber().doubleValue() > 1e-3,
                "image outputs should depend on image tokens");
    }

    /** Graphs for one VLM layer on a joint sequence and the matching generation layer, over fresh weights. */
    final class Harness {
        final LatteConfig cfg;
        final Net net;
        final Map<String, SDVariable> v = new HashMap<>();

        Harness(LatteConfig cfg) {
            this.cfg = cfg;
            ParamStore params = LatteWeights.init(cfg, 11);
            net = new Net(params);
            SDVariable x = net.input("joint", -1, -1, d);
            SDVariable out = TextDecoder.layer(net, cfg, LAYER, x, net.input("jcos", -1, 1, -1, dh), net.input("jsin", -1, 1, -1, dh),
                    net.input("jmask", -1, 1, -1, -1), null, null).hidden();
            v.put("jointOut", out);
            SDVariable ck = net.input("ck", -1, cfg.numKvHeads(), -1, dh), cv = net.input("cv", -1, cfg.numKvHeads(), -1, dh);
            SDVariable ht = net.input("ht", -1, d);
            GenerationLayer.Out g = GenerationLayer.forward(net, cfg, LAYER, net.input("img", -1, nx, d), ht,
                    net.input("icos", -1, 1, nx, dh), net.input("isin", -1, 1, nx, dh), ck, cv, net.input("cmask", -1, 1, 1, -1),
                    cfg.residualAttention() ? net.input("prev", -1, cfg.numHeads(), nx, nx) : null);
            v.put("genOut", g.hidden());
            TextDecoder.LayerOut ctxLayer = TextDecoder.layer(net, cfg, LAYER, net.input("ctx", -1, -1, d),
                    net.input("ccos", -1, 1, -1, dh), net.input("csin", -1, 1, -1, dh), net.input("cmask2", -1, 1, -1, -1), null, null);
            v.put("ctxK", ctxLayer.keys());
            v.put("ctxV", ctxLayer.values());
        }

        INDArray joint(INDArray ctx, INDArray img) {
            int n = NC + nx;
            long[][][] pos = new long[B][3][n];
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < NC; i++) pos[b][0][i] = pos[b][1][i] = pos[b][2][i] = i;
                for (int cell = 0; cell < nx; cell++) {
                    pos[b][0][NC + cell] = NC;
                    pos[b][1][NC + cell] = NC + cell / cfg.latentGrid();
                    pos[b][2][NC + cell] = NC + cell % cfg.latentGrid();
                }
            }
            INDArray[] rope = Rope.mrope(pos, dh, cfg.ropeTheta(), cfg.mropeSection());
            INDArray mask = Nd4j.zeros(B, 1, n, n);
            for (int i = 0; i < NC; i++) for (int j = i + 1; j < n; j++) mask.putScalar(new long[]{0, 0, i, j}, -1e9);
            for (int i = 0; i < NC; i++) for (int j = i + 1; j < n; j++) mask.putScalar(new long[]{1, 0, i, j}, -1e9);
            Map<String, INDArray> in = Map.of("joint", Nd4j.concat(1, ctx, img), "jcos", rope[0], "jsin", rope[1], "jmask", mask);
            return net.sd.output(in, v.get("jointOut").name()).get(v.get("jointOut").name());
        }

        /** Context K/V of this layer from a context-only run: {keys, values}. */
        INDArray contextOnly(INDArray ctx) {
            long[][][] pos = new long[B][3][NC];
            for (int b = 0; b < B; b++) for (int i = 0; i < NC; i++) pos[b][0][i] = pos[b][1][i] = pos[b][2][i] = i;
            INDArray[] rope = Rope.mrope(pos, dh, cfg.ropeTheta(), cfg.mropeSection());
            INDArray mask = Nd4j.zeros(B, 1, NC, NC);
            for (int b = 0; b < B; b++) for (int i = 0; i < NC; i++) for (int j = i + 1; j < NC; j++) mask.putScalar(new long[]{b, 0, i, j}, -1e9);
            Map<String, INDArray> out = net.sd.output(Map.of("ctx", ctx, "ccos", rope[0], "csin", rope[1], "cmask2", mask),
                    v.get("ctxK").name(), v.get("ctxV").name());
            return Nd4j.concat(0, out.get(v.get("ctxK").name()), out.get(v.get("ctxV").name()));
        }

        INDArray generation(INDArray img, INDArray kv, INDArray previous) {
            INDArray[] rope = GenerationContext.imageRope(cfg, new long[]{NC, NC});
            Map<String, INDArray> in = new HashMap<>();
            in.put("img", img);
            in.put("ht", Nd4j.randn(B, d));
            in.put("icos", rope[0]);
            in.put("isin", rope[1]);
            in.put("ck", kv.get(NDArrayIndex.interval(0, B)));
            in.put("cv", kv.get(NDArrayIndex.interval(B, 2 * B)));
            in.put("cmask", Nd4j.zeros(B, 1, 1, NC));
            if (cfg.residualAttention()) in.put("prev", previous);
            return net.sd.output(in, v.get("genOut").name()).get(v.get("genOut").name());
        }
    }
}
