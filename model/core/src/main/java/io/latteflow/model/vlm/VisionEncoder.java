package io.latteflow.model.vlm;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.nn.Net;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The Qwen2-VL vision tower: patch embedding, ViT blocks (LayerNorm, 2D RoPE, QuickGELU MLP) and the 2x2 patch
 * merger that maps each window of four patches to one token of the text width. Weights under {@code visual.}.
 */
public final class VisionEncoder {
    private VisionEncoder() {
    }

    /**
     * @param patches (batch, patches, C*T*p*p) in merge-window order (see {@link ImagePatches})
     * @param cos     (1, 1, patches, visionHeadDim)
     * @return (batch, imageTokens, d)
     */
    public static SDVariable encode(Net net, LatteConfig c, SDVariable patches, SDVariable cos, SDVariable sin) {
        int e = c.visionHidden(), heads = c.visionHeads(), dh = c.visionHeadDim();
        SDVariable w = net.reshape(net.p("visual.patch_embed.proj.weight"), (long) e, -1L);   // Conv3d weight as (e, C*T*p*p)
        SDVariable x = net.reshape(net.sd.mmul(net.reshape(patches, -1L, net.size(patches, 2)), w, false, true, false),
                net.size(patches, 0), net.size(patches, 1), (long) e);                       // (batch, patches, e)
        for (int i = 0; i < c.visionDepth(); i++) {
            String p = "visual.blocks." + i;
            SDVariable qkv = net.linear(net.layerNorm(x, p + ".norm1", 1e-6), p + ".attn.qkv", true);
            SDVariable split = net.sd.permute(net.reshape(qkv, net.size(x, 0), net.size(x, 1), 3L, (long) heads, (long) dh),
                    2, 0, 3, 1, 4);                                                       // (3, batch, heads, patches, dh)
            SDVariable[] qkvParts = net.sd.unstack(split, 0, 3);                  // view-based get() fails in M2.1 gradients here
            SDVariable q = net.rope(qkvParts[0], cos, sin, dh);
            SDVariable k = net.rope(qkvParts[1], cos, sin, dh);
            SDVariable v = qkvParts[2];
            SDVariable probs = net.sd.nn.softmax(net.logits(q, k, dh), 3);
            x = x.add(net.linear(net.mergeHeads(net.sd.mmul(probs, v), heads), p + ".attn.proj", true));
            SDVariable mlp = net.linear(net.quickGelu(net.linear(net.layerNorm(x, p + ".norm2", 1e-6), p + ".mlp.fc1", true)), p + ".mlp.fc2", true);
            x = x.add(mlp);
        }
        int window = c.spatialMergeSize() * c.spatialMergeSize();
        SDVariable merged = net.reshape(net.layerNorm(x, "visual.merger.ln_q", 1e-6), net.size(x, 0), -1L, (long) e * window);
        return net.linear(net.gelu(net.linear(merged, "visual.merger.mlp.0", true)), "visual.merger.mlp.2", true);
    }
}
