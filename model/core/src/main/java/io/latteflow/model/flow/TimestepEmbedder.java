package io.latteflow.model.flow;

import io.latteflow.model.nn.Net;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DiT's timestep embedder: sinusoidal features of 1000 t (host side), then Linear, SiLU, Linear in the graph.
 * Weights {@code gen.time_embed.linear_1}, {@code gen.time_embed.linear_2}.
 */
public final class TimestepEmbedder {
    private TimestepEmbedder() {
    }

    /** (batch, dim) = [cos(1000 t f_i), sin(1000 t f_i)], f_i = 10000^(-i / (dim/2)). */
    public static INDArray features(double[] t, int dim) {
        int half = dim / 2;
        float[] out = new float[t.length * dim];
        for (int b = 0; b < t.length; b++)
            for (int i = 0; i < half; i++) {
                double arg = 1000 * t[b] * Math.exp(-Math.log(10000) * i / half);
                out[b * dim + i] = (float) Math.cos(arg);
                out[b * dim + half + i] = (float) Math.sin(arg);
            }
        return Nd4j.create(out, new long[]{t.length, dim}, 'c');
    }

    /** h_t, (batch, d). */
    public static SDVariable embed(Net net, SDVariable features) {
        return net.dense(net.silu(net.dense(features, "gen.time_embed.linear_1", true)), "gen.time_embed.linear_2", true);
    }
}
