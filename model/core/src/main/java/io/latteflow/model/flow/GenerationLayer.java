package io.latteflow.model.flow;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.Variant;
import io.latteflow.model.nn.Net;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Generation layer l: image tokens are the queries; keys and values are VLM layer l's context K/V followed by the
 * image tokens' own, so image tokens see all context and each other while context never sees them.
 * Its two norms and two residual branches are modulated by h_t (adaLN-Zero: shift, 1 + scale, 1 + gate), so a
 * fresh layer computes exactly what the layer it was initialised from computes.
 * Couple: every weight under {@code gen.layers.l.}; Blend: attention projections shared with {@code model.layers.l.}.
 */
public final class GenerationLayer {
    private GenerationLayer() {
    }

    /** The layer's output and its image-image pre-softmax logits A^l for the next layer's residual attention. */
    public record Out(SDVariable hidden, SDVariable imageLogits) {
    }

    /**
     * @param x        image tokens (batch, nImg, d)
     * @param ht       timestep embedding (batch, d)
     * @param cos      image-token M-RoPE (batch, 1, nImg, dh)
     * @param ck       context keys of VLM layer l after RoPE (batch, kvHeads, nCtx, dh)
     * @param cmask    additive context padding mask (batch, 1, 1, nCtx)
     * @param previous A^{l-1} of the previous layer in this group, or null (first layer, or residual attention off)
     */
    public static Out forward(Net net, LatteConfig c, int l, SDVariable x, SDVariable ht, SDVariable cos, SDVariable sin,
                              SDVariable ck, SDVariable cv, SDVariable cmask, SDVariable previous) {
        String own = "gen.layers." + l;
        String attn = (c.variant() == Variant.COUPLE ? own : "model.layers." + l) + ".self_attn";
        int d = c.hiddenSize(), dh = c.headDim(), heads = c.numHeads(), kvHeads = c.numKvHeads();
        SDVariable[] m = modulation(net, ht, own + ".adaLN_modulation", 6, d);   // each (batch, 1, d)

        SDVariable h = modulate(net, net.rmsNorm(x, own + ".input_layernorm.weight", c.rmsNormEps()), m[0], m[1]);
        SDVariable q = net.rope(net.splitHeads(net.linear(h, attn + ".q_proj", true), heads, dh), cos, sin, dh);
        SDVariable k = net.rope(net.splitHeads(net.linear(h, attn + ".k_proj", true), kvHeads, dh), cos, sin, dh);
        SDVariable v = net.splitHeads(net.linear(h, attn + ".v_proj", true), kvHeads, dh);
        SDVariable contextLogits = net.groupedLogits(q, ck, kvHeads, dh).add(cmask);                // (batch, heads, nImg, nCtx)
        SDVariable imageLogits = net.groupedLogits(q, k, kvHeads, dh);                              // (batch, heads, nImg, nImg)
        SDVariable mixed = previous == null ? imageLogits
                : ResidualAttention.apply(net, imageLogits, previous, ht, own + ".residual_gate");
        SDVariable probs = net.sd.nn.softmax(net.sd.concat(3, contextLogits, mixed), 3);              // (batch, heads, nImg, nCtx + nImg)
        SDVariable values = net.sd.concat(2, cv, v);                                                  // (batch, kvHeads, nCtx + nImg, dh)
        SDVariable attended = net.linear(net.mergeHeads(net.groupedAttend(probs, values, kvHeads), heads), attn + ".o_proj", false);
        SDVariable mid = x.add(net.scale(attended, m[2].add(1.0)));

        SDVariable h2 = modulate(net, net.rmsNorm(mid, own + ".post_attention_layernorm.weight", c.rmsNormEps()), m[3], m[4]);
        SDVariable out = mid.add(net.scale(net.swiGlu(h2, own + ".mlp"), m[5].add(1.0)));
        return new Out(out, imageLogits);
    }

    /**
     * n chunks (batch, 1, d) of Linear(SiLU(h_t)). Each chunk multiplies its own rows of the weight: slicing the
     * (batch, n*d) product instead breaks SameDiff's strided_slice_bp when the batch has one row.
     */
    static SDVariable[] modulation(Net net, SDVariable ht, String prefix, int n, int d) {
        SDVariable act = net.silu(ht);                                         // (batch, dim)
        SDVariable w = net.p(prefix + ".weight"), b = net.p(prefix + ".bias");  // (n*d, dim), (n*d)
        SDVariable[] chunks = new SDVariable[n];
        for (int i = 0; i < n; i++) {
            SDVariable wi = w.get(SDIndex.interval(i * d, (i + 1) * d), SDIndex.all());
            SDVariable bi = b.get(SDIndex.interval(i * d, (i + 1) * d));
            chunks[i] = net.sd.expandDims(net.sd.mmul(act, wi, false, true, false).add(bi), 1);
        }
        return chunks;
    }

    static SDVariable modulate(Net net, SDVariable normed, SDVariable shift, SDVariable scale) {
        return net.scale(normed, scale.add(1.0)).add(shift);
    }
}
