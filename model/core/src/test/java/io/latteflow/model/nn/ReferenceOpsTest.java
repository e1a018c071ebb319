package io.latteflow.model.nn;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteWeights;
import io.latteflow.model.flow.ResidualAttention;
import io.latteflow.model.vlm.TextDecoder;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Graph building blocks against plain double-precision loops written from the formulas. */
class ReferenceOpsTest {
    final LatteConfig c = LatteConfig.tiny();                                  // d 32, 4 heads, 2 kv heads, dh 8
    final int d = c.hiddenSize(), dh = c.headDim(), n = 5;
    /** (t, h, w) triples; tokens 2 and 3 differ per component so every M-RoPE section matters. */
    final long[][] pos = {{0, 1, 2, 2, 4}, {0, 1, 2, 3, 4}, {0, 1, 3, 2, 4}};

    @Test
    void rmsNormMatchesTheFormula() {
        ParamStore p = new ParamStore(1);
        INDArray w = p.normal("w", 1.0, d);
        Net net = new Net(p);
        SDVariable y = net.rmsNorm(net.input("x", -1, -1, d), "w", 1e-6);
        INDArray x = Nd4j.randn(2, 3, d);
        INDArray got = net.sd.output(Map.of("x", x), y.name()).get(y.name());
        double[][][] xs = to3(x);
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 3; i++) {
                double ms = 0;
                for (double v : xs[b][i]) ms += v * v / d;
                for (int j = 0; j < d; j++) {
                    assertEquals(xs[b][i][j] / Math.sqrt(ms + 1e-6) * w.getDouble(j), got.getDouble(b, i, j), 1e-5);
                }
            }
    }

    @Test
    void mropeUsesTemporalHeightWidthSectionsOfTheRotaryHalf() {
        int[] section = c.mropeSection();                                        // [1, 1, 2] for dh 8
        assertEquals(dh / 2, section[0] + section[1] + section[2]);
        assertArrayEquals(new int[]{16, 24, 24}, LatteConfig.paper().mropeSection(), "Qwen2-VL's sections at head dim 128");
        INDArray[] t = Rope.mrope(new long[][][]{pos}, dh, c.ropeTheta(), section);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < dh; j++) {
                int f = j % (dh / 2);
                long p = f < section[0] ? pos[0][i] : f < section[0] + section[1] ? pos[1][i] : pos[2][i];
                double angle = p / Math.pow(c.ropeTheta(), 2.0 * f / dh);
                assertEquals(Math.cos(angle), t[0].getDouble(0, 0, i, j), 1e-6);
                assertEquals(Math.sin(angle), t[1].getDouble(0, 0, i, j), 1e-6);
            }
    }

    @Test
    void decoderLayerWithGqaRopeAndBiasesMatchesAHandComputation() {
        ParamStore params = LatteWeights.init(c, 5);
        for (String b : new String[]{"q_proj", "k_proj", "v_proj"}) params.get("model.layers.0.self_attn." + b + ".bias").assign(Nd4j.randn(params.get("model.layers.0.self_attn." + b + ".bias").shape()).mul(0.5));
        params.get("model.layers.0.input_layernorm.weight").addi(Nd4j.randn(d).mul(0.3));
        Net net = new Net(params);
        SDVariable out = TextDecoder.layer(net, c, 0, net.input("x", -1, -1, d), net.input("cos", -1, 1, -1, dh),
                net.input("sin", -1, 1, -1, dh), net.input("mask", -1, 1, -1, -1), null, null).hidden();
        INDArray x = Nd4j.randn(1, n, d);
        INDArray[] rope = Rope.mrope(new long[][][]{pos}, dh, c.ropeTheta(), c.mropeSection());
        INDArray mask = Nd4j.zeros(1, 1, n, n);
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) mask.putScalar(new long[]{0, 0, i, j}, -1e9);
        INDArray got = net.sd.output(Map.of("x", x, "cos", rope[0], "sin", rope[1], "mask", mask), out.name()).get(out.name());
        double[][] want = handLayer(params, to3(x)[0]);
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) assertEquals(want[i][j], got.getDouble(0, i, j), 1e-4, "token " + i + " dim " + j);
    }

    @Test
    void residualAttentionAddsTheTanhGatedPreviousLogitsPerHead() {
        int heads = 4, m = 3;
        ParamStore p = new ParamStore(2);
        INDArray w = p.normal("gate.weight", 0.5, heads, d);
        Net net = new Net(p);
        SDVariable y = ResidualAttention.apply(net, net.input("a", -1, heads, m, m), net.input("prev", -1, heads, m, m),
                net.input("ht", -1, d), "gate");
        INDArray a = Nd4j.randn(2, heads, m, m), prev = Nd4j.randn(2, heads, m, m), ht = Nd4j.randn(2, d);
        INDArray got = net.sd.output(Map.of("a", a, "prev", prev, "ht", ht), y.name()).get(y.name());
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < heads; h++) {
                double z = 0;
                for (int j = 0; j < d; j++) z += ht.getDouble(b, j) * w.getDouble(h, j);
                double g = Math.tanh(z);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < m; j++)
                        assertEquals(a.getDouble(b, h, i, j) + g * prev.getDouble(b, h, i, j), got.getDouble(b, h, i, j), 1e-5);
            }
    }

    /** Qwen2 decoder layer 0 from the formulas, in double precision, causal over the given tokens. */
    private double[][] handLayer(ParamStore p, double[][] x) {
        String l = "model.layers.0.";
        int heads = c.numHeads(), kvHeads = c.numKvHeads(), rep = heads / kvHeads;
        double[][] h = rms(x, p.get(l + "input_layernorm.weight"));
        double[][] q = lin(h, p.get(l + "self_attn.q_proj.weight"), p.get(l + "self_attn.q_proj.bias"));
        double[][] k = lin(h, p.get(l + "self_attn.k_proj.weight"), p.get(l + "self_attn.k_proj.bias"));
        double[][] v = lin(h, p.get(l + "self_attn.v_proj.weight"), p.get(l + "self_attn.v_proj.bias"));
        double[][] attn = new double[n][heads * dh];
        for (int hh = 0; hh < heads; hh++) {
            int kvh = hh / rep;                                                  // query head hh reads kv head hh / rep
            for (int i = 0; i < n; i++) {
                double[] qi = rope(slice(q[i], hh * dh), i);
                double[] s = new double[i + 1];
                double max = -1e300, sum = 0;
                for (int j = 0; j <= i; j++) {
                    double[] kj = rope(slice(k[j], kvh * dh), j);
                    for (int e = 0; e < dh; e++) s[j] += qi[e] * kj[e] / Math.sqrt(dh);
                    max = Math.max(max, s[j]);
                }
                for (int j = 0; j <= i; j++) sum += s[j] = Math.exp(s[j] - max);
                for (int j = 0; j <= i; j++) for (int e = 0; e < dh; e++) attn[i][hh * dh + e] += s[j] / sum * v[j][kvh * dh + e];
            }
        }
        double[][] mid = add(x, lin(attn, p.get(l + "self_attn.o_proj.weight"), null));
        double[][] h2 = rms(mid, p.get(l + "post_attention_layernorm.weight"));
        double[][] gate = lin(h2, p.get(l + "mlp.gate_proj.weight"), null), up = lin(h2, p.get(l + "mlp.up_proj.weight"), null);
        for (int i = 0; i < n; i++) for (int j = 0; j < gate[i].length; j++) gate[i][j] = gate[i][j] / (1 + Math.exp(-gate[i][j])) * up[i][j];
        return add(mid, lin(gate, p.get(l + "mlp.down_proj.weight"), null));
    }

    private double[] rope(double[] x, int token) {
        int half = dh / 2;
        int[] s = c.mropeSection();
        double[] out = new double[dh];
        for (int f = 0; f < half; f++) {
            long p = f < s[0] ? pos[0][token] : f < s[0] + s[1] ? pos[1][token] : pos[2][token];
            double a = p / Math.pow(c.ropeTheta(), 2.0 * f / dh);
            out[f] = x[f] * Math.cos(a) - x[f + half] * Math.sin(a);
            out[f + half] = x[f + half] * Math.cos(a) + x[f] * Math.sin(a);
        }
        return out;
    }

    private double[] slice(double[] row, int from) {
        return java.util.Arrays.copyOfRange(row, from, from + dh);
    }

    private double[][] rms(double[][] x, INDArray w) {
        double[][] out = new double[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            double ms = 0;
            for (double v : x[i]) ms += v * v / x[i].length;
            for (int j = 0; j < x[i].length; j++) out[i][j] = x[i][j] / Math.sqrt(ms + c.rmsNormEps()) * w.getDouble(j);
        }
        return out;
    }

    private static double[][] lin(double[][] x, INDArray w, INDArray b) {
        int out = (int) w.size(0), in = (int) w.size(1);
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++)
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b.getDouble(o);
                for (int j = 0; j < in; j++) s += x[i][j] * w.getDouble(o, j);
                y[i][o] = s;
            }
        return y;
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] y = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) y[i][j] = a[i][j] + b[i][j];
        return y;
    }

    private static double[][][] to3(INDArray x) {
        double[][][] out = new double[(int) x.size(0)][(int) x.size(1)][(int) x.size(2)];
        for (int a = 0; a < out.length; a++) for (int b = 0; b < out[0].length; b++) for (int e = 0; e < out[0][0].length; e++) out[a][b][e] = x.getDouble(a, b, e);
        return out;
    }
}
