package io.latteflow.model;

import io.latteflow.model.nn.ParamStore;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every weight of a model, by Hugging Face name (Qwen2-VL's for the backbone; {@code gen.*} for generation),
 * with its shape and how it starts. One list serves initialisation and checkpoint validation.
 */
public final class LatteWeights {
    private LatteWeights() {
    }

    /** How a weight starts: N(0, 1/fan in), zeros, ones, or a copy of another weight (Couple copies VLM layers). */
    public record Spec(long[] shape, String init, String copyOf) {
        static Spec normal(long... s) { return new Spec(s, "normal", null); }
        static Spec zeros(long... s) { return new Spec(s, "zeros", null); }
        static Spec ones(long... s) { return new Spec(s, "ones", null); }
        static Spec copy(String from, long... s) { return new Spec(s, "copy", from); }
    }

    public static Map<String, Spec> specs(LatteConfig c) {
        Map<String, Spec> s = new LinkedHashMap<>();
        long d = c.hiddenSize(), dh = c.headDim(), kv = (long) c.numKvHeads() * dh, ff = c.intermediateSize();
        s.put("model.embed_tokens.weight", Spec.normal(c.vocabSize(), d));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l;
            s.put(p + ".input_layernorm.weight", Spec.ones(d));
            s.put(p + ".self_attn.q_proj.weight", Spec.normal(d, d));
            s.put(p + ".self_attn.q_proj.bias", Spec.zeros(d));
            s.put(p + ".self_attn.k_proj.weight", Spec.normal(kv, d));
            s.put(p + ".self_attn.k_proj.bias", Spec.zeros(kv));
            s.put(p + ".self_attn.v_proj.weight", Spec.normal(kv, d));
            s.put(p + ".self_attn.v_proj.bias", Spec.zeros(kv));
            s.put(p + ".self_attn.o_proj.weight", Spec.normal(d, d));
            s.put(p + ".post_attention_layernorm.weight", Spec.ones(d));
            s.put(p + ".mlp.gate_proj.weight", Spec.normal(ff, d));
            s.put(p + ".mlp.up_proj.weight", Spec.normal(ff, d));
            s.put(p + ".mlp.down_proj.weight", Spec.normal(d, ff));
        }
        s.put("model.norm.weight", Spec.ones(d));
        vision(c, s);
        generation(c, s);
        return s;
    }

    private static void vision(LatteConfig c, Map<String, Spec> s) {
        long e = c.visionHidden(), mlp = (long) e * c.visionMlpRatio(), merged = e * c.spatialMergeSize() * c.spatialMergeSize();
        s.put("visual.patch_embed.proj.weight", Spec.normal(e, 3, c.temporalPatchSize(), c.patchSize(), c.patchSize()));
        for (int i = 0; i < c.visionDepth(); i++) {
            String p = "visual.blocks." + i;
            s.put(p + ".norm1.weight", Spec.ones(e));
            s.put(p + ".norm1.bias", Spec.zeros(e));
            s.put(p + ".norm2.weight", Spec.ones(e));
            s.put(p + ".norm2.bias", Spec.zeros(e));
            s.put(p + ".attn.qkv.weight", Spec.normal(3 * e, e));
            s.put(p + ".attn.qkv.bias", Spec.zeros(3 * e));
            s.put(p + ".attn.proj.weight", Spec.normal(e, e));
            s.put(p + ".attn.proj.bias", Spec.zeros(e));
            s.put(p + ".mlp.fc1.weight", Spec.normal(mlp, e));
            s.put(p + ".mlp.fc1.bias", Spec.zeros(mlp));
            s.put(p + ".mlp.fc2.weight", Spec.normal(e, mlp));
            s.put(p + ".mlp.fc2.bias", Spec.zeros(e));
        }
        s.put("visual.merger.ln_q.weight", Spec.ones(e));
        s.put("visual.merger.ln_q.bias", Spec.zeros(e));
        s.put("visual.merger.mlp.0.weight", Spec.normal(merged, merged));
        s.put("visual.merger.mlp.0.bias", Spec.zeros(merged));
        s.put("visual.merger.mlp.2.weight", Spec.normal(c.hiddenSize(), merged));
        s.put("visual.merger.mlp.2.bias", Spec.zeros(c.hiddenSize()));
    }

    private static void generation(LatteConfig c, Map<String, Spec> s) {
        long d = c.hiddenSize(), p = c.latentDim();
        s.put("gen.time_embed.linear_1.weight", Spec.normal(d, c.timeEmbedDim()));
        s.put("gen.time_embed.linear_1.bias", Spec.zeros(d));
        s.put("gen.time_embed.linear_2.weight", Spec.normal(d, d));
        s.put("gen.time_embed.linear_2.bias", Spec.zeros(d));
        String[] own = c.variant() == Variant.COUPLE
                ? new String[]{"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight",
                "self_attn.k_proj.bias", "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.o_proj.weight",
                "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"}
                : new String[]{"input_layernorm.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight",
                "mlp.up_proj.weight", "mlp.down_proj.weight"};
        for (int l = 0; l < c.numLayers(); l++) {
            for (String w : own) {
                String from = "model.layers." + l + "." + w;
                s.put("gen.layers." + l + "." + w, Spec.copy(from, s.get(from).shape()));
            }
            s.put("gen.layers." + l + ".adaLN_modulation.weight", Spec.zeros(6 * d, d));
            s.put("gen.layers." + l + ".adaLN_modulation.bias", Spec.zeros(6 * d));
            if (c.residualAttention() && l % c.layersPerGroup() != 0) {
                s.put("gen.layers." + l + ".residual_gate.weight", Spec.zeros(c.numHeads(), d));
            }
        }
        for (int k = 0; k < c.groups(); k++) {
            String g = "gen.groups." + k;
            s.put(g + ".input_proj.weight", Spec.normal(d, p));
            s.put(g + ".input_proj.bias", Spec.zeros(d));
            s.put(g + ".norm_out.weight", Spec.ones(d));
            s.put(g + ".adaLN_out.weight", Spec.zeros(2 * d, d));
            s.put(g + ".adaLN_out.bias", Spec.zeros(2 * d));
            s.put(g + ".proj_out.weight", Spec.zeros(p, d));
            s.put(g + ".proj_out.bias", Spec.zeros(p));
        }
    }

    /**
     * LeCun-normal scale 1/sqrt(fan in). At the paper's width (d = 1536) this is Qwen2-VL's initializer_range 0.02;
     * at the small widths trained here 0.02 would leave attention logits near zero and training crawling.
     */
    private static long fanIn(long[] shape) {
        long n = 1;
        for (int i = 1; i < shape.length; i++) n *= shape[i];
        return n;
    }

    /**
     * The paper's Couple initialisation, taken from the VLM as it is now: every generation weight that starts as a
     * copy of a VLM weight (all of a Couple layer; a Blend layer's norms and MLP) is overwritten with that weight.
     * Runs when generation training starts, after any understanding training (issue 16: copying only at creation
     * left the generation layers reading a trained VLM's K/V with the untrained VLM's weights).
     */
    public static void initGenerationFromVlm(LatteConfig c, ParamStore params) {
        specs(c).forEach((name, spec) -> {
            if (spec.copyOf() != null) params.get(name).assign(params.get(spec.copyOf()));
        });
    }

    /** A freshly initialised model: random backbone, generation layers copied from it, zero-initialised gates. */
    public static ParamStore init(LatteConfig c, long seed) {
        ParamStore store = new ParamStore(seed);
        initInto(c, store, name -> true);
        return store;
    }

    /**
     * Adds the generation weights ({@code gen.*}) to a store that holds a VLM: layers copied from it, the rest
     * initialised as in {@link #init}. This is how a LaTtE-Flow model is made from a pretrained Qwen2-VL.
     */
    public static void addGeneration(LatteConfig c, ParamStore store) {
        initInto(c, store, name -> name.startsWith("gen."));
    }

    private static void initInto(LatteConfig c, ParamStore store, java.util.function.Predicate<String> which) {
        specs(c).forEach((name, spec) -> {
            if (!which.test(name)) return;
            switch (spec.init()) {
                case "normal" -> store.normal(name, 1 / Math.sqrt(fanIn(spec.shape())), spec.shape());
                case "zeros" -> store.zeros(name, spec.shape());
                case "ones" -> store.ones(name, spec.shape());
                default -> store.copy(name, spec.copyOf());
            }
        });
    }
}
