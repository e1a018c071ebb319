package io.latteflow.model.flow;

import io.latteflow.model.nn.Net;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Timestep-conditioned residual attention (eq. 3): the image-image pre-softmax logits of a layer get the previous
 * layer's (same group) added, scaled per head by {@code g(t) = tanh(h_t W_t)}. W_t is zero-initialised, so a fresh
 * model behaves as if the residual were absent; it costs no extra matmul.
 */
public final class ResidualAttention {
    private ResidualAttention() {
    }

    /**
     * @param logits   A^{l+1}, (batch, heads, nImg, nImg)
     * @param previous A^l of the previous layer in the group, same shape
     * @param ht       timestep embedding (batch, d)
     * @param gate     prefix of W_t, stored (heads, d)
     */
    public static SDVariable apply(Net net, SDVariable logits, SDVariable previous, SDVariable ht, String gate) {
        SDVariable g = net.sd.math.tanh(net.dense(ht, gate, false));                // (batch, heads)
        return logits.add(net.scale(previous, net.sd.expandDims(net.sd.expandDims(g, 2), 3)));  // gate (batch, heads, 1, 1)
    }
}
