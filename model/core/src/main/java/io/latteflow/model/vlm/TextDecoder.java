package io.latteflow.model.vlm;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.nn.Net;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The Qwen2-VL text decoder layer, {@code h = x + Attn(RMSNorm(x)); y = h + MLP(RMSNorm(h))}, with q/k/v biases,
 * grouped-query attention and M-RoPE. Weights under {@code model.layers.N.}.
 */
public final class TextDecoder {
    private TextDecoder() {
    }

    /** A layer's output tokens and its keys (after RoPE) and values, before any grouped-query repetition. */
    public record LayerOut(SDVariable hidden, SDVariable keys, SDVariable values) {
    }

    /**
     * @param x     (batch, n, d)
     * @param cos   (batch, 1, n, dh) M-RoPE table for these tokens
     * @param mask  additive (batch, 1, n, past + n)
     * @param pastK keys of earlier tokens (batch, kvHeads, past, dh), or null
     */
    public static LayerOut layer(Net net, LatteConfig c, int l, SDVariable x, SDVariable cos, SDVariable sin,
                                 SDVariable mask, SDVariable pastK, SDVariable pastV) {
        String p = "model.layers." + l;
        int dh = c.headDim();
        SDVariable h = net.rmsNorm(x, p + ".input_layernorm.weight", c.rmsNormEps());
        SDVariable q = net.rope(net.splitHeads(net.linear(h, p + ".self_attn.q_proj", true), c.numHeads(), dh), cos, sin, dh);
        SDVariable k = net.rope(net.splitHeads(net.linear(h, p + ".self_attn.k_proj", true), c.numKvHeads(), dh), cos, sin, dh);
        SDVariable v = net.splitHeads(net.linear(h, p + ".self_attn.v_proj", true), c.numKvHeads(), dh);
        SDVariable keys = pastK == null ? k : net.sd.concat(2, pastK, k);       // (batch, kvHeads, past + n, dh)
        SDVariable values = pastV == null ? v : net.sd.concat(2, pastV, v);
        SDVariable probs = net.sd.nn.softmax(net.groupedLogits(q, keys, c.numKvHeads(), dh).add(mask), 3);
        SDVariable attn = net.mergeHeads(net.groupedAttend(probs, values, c.numKvHeads()), c.numHeads());
        SDVariable mid = x.add(net.linear(attn, p + ".self_attn.o_proj", false));
        SDVariable out = mid.add(net.swiGlu(net.rmsNorm(mid, p + ".post_attention_layernorm.weight", c.rmsNormEps()), p + ".mlp"));
        return new LayerOut(out, k, v);
    }

    /**
     * Token embeddings (batch, n, d) of int ids (batch, n). A graph that trains the embedding multiplies one-hot rows
     * instead of gathering: SameDiff 1.0.0-M2.1's gather gradient builds a control-flow loop that fails.
     */
    public static SDVariable embed(Net net, SDVariable ids, boolean trainable) {
        SDVariable table = net.p("model.embed_tokens.weight");
        SDVariable flat = net.reshape(ids, -1L);
        SDVariable rows = trainable
                ? net.sd.mmul(net.sd.oneHot(flat, (int) net.params().get("model.embed_tokens.weight").size(0)).castTo(table.dataType()), table)
                : net.sd.gather(table, flat, 0);                                    // (batch*n, d)
        return net.reshape(rows, net.size(ids, 0), net.size(ids, 1), -1L);
    }
}
