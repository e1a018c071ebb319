package io.latteflow.model.vlm;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.nn.Net;
import io.latteflow.model.nn.ParamStore;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The understanding backbone: one prefill over a prompt (with or without an image) that yields every layer's
 * keys and values, and KV-cached decoding for answers. Graphs are built once and shared by all callers.
 */
public final class VisionLanguageModel {
    private final LatteConfig c;
    private final ParamStore params;
    private final AtomicLong prefills = new AtomicLong();
    private Net textPrefill, imagePrefill, embeddedPrefill, vision, decode;

    public VisionLanguageModel(LatteConfig c, ParamStore params) {
        this.c = c;
        this.params = params;
    }

    /** Last layer's normed hidden states and, per layer, keys after RoPE and values: (batch, kvHeads, n, dh); null where not computed. */
    public record Prefill(INDArray hidden, INDArray[] keys, INDArray[] values) {
    }

    public Prefill prefill(PromptBatch batch, INDArray patches) {
        return prefill(batch, patches, c.numLayers(), true);
    }

    /**
     * Runs only what the requested outputs need: the K/V of layers 0..layers-1 and, if asked, the final hidden
     * states. A Couple training step of group k needs the context of its own layers only.
     */
    public Prefill prefill(PromptBatch batch, INDArray patches, int layers, boolean hidden) {
        checkLength(batch);
        Net net = graph(batch.withImage());
        Map<String, INDArray> in = prefillInputs(batch, patches);
        List<String> outs = new ArrayList<>();
        if (hidden) outs.add("hidden");
        for (int l = 0; l < layers; l++) {
            outs.add("k" + l);
            outs.add("v" + l);
        }
        Map<String, INDArray> out = net.output(in, outs.toArray(new String[0]));
        prefills.incrementAndGet();
        INDArray[] k = new INDArray[c.numLayers()], v = new INDArray[c.numLayers()];
        for (int l = 0; l < layers; l++) {
            k[l] = out.get("k" + l);
            v[l] = out.get("v" + l);
        }
        return new Prefill(out.get("hidden"), k, v);
    }

    /**
     * Decoding options: temperature 0 is greedy; otherwise nucleus sampling with {@code topP}. Any of
     * {@code stopIds} ends a row's answer (Qwen2-VL-Instruct stops at {@code <|im_end|>} or {@code <|endoftext|>}).
     */
    public record Decoding(int maxNewTokens, double temperature, double topP, Set<Integer> stopIds, int padId) {
        public Decoding {
            stopIds = Set.copyOf(stopIds);
        }

        public Decoding(int maxNewTokens, double temperature, double topP, int stopId, int padId) {
            this(maxNewTokens, temperature, topP, Set.of(stopId), padId);
        }
    }

    /** Answers each row of the batch (row b samples with {@code seeds[b]}); returns each row's new tokens without the stop token. */
    public int[][] generate(PromptBatch batch, INDArray patches, Decoding opt, long[] seeds) {
        return decode(batch, prefill(batch, patches), opt, seeds);
    }

    /**
     * As {@link #generate}, for prompts already embedded: {@code embeds} (batch, n, d) holds each row's token
     * embeddings with its images' features in place (see {@link #embed} and {@link #encodeImage}), and the batch's
     * positions may put images anywhere. This is how Hugging Face Qwen2-VL prompts, with images of any size, run.
     */
    public int[][] generateFromEmbeddings(PromptBatch batch, INDArray embeds, Decoding opt, long[] seeds) {
        return decode(batch, prefillEmbeddings(batch, embeds), opt, seeds);
    }

    /** Every layer's keys and values and the final normed hidden states of embedded prompts (batch, n, d). */
    public Prefill prefillEmbeddings(PromptBatch batch, INDArray embeds) {
        checkLength(batch);
        Map<String, INDArray> in = inputs(batch);
        in.remove("ids");
        in.put("embeds", embeds);
        List<String> outs = new ArrayList<>();
        outs.add("hidden");
        for (int l = 0; l < c.numLayers(); l++) {
            outs.add("k" + l);
            outs.add("v" + l);
        }
        prefills.incrementAndGet();
        Map<String, INDArray> out = embeddedGraph().output(in, outs.toArray(new String[0]));
        INDArray[] k = new INDArray[c.numLayers()], v = new INDArray[c.numLayers()];
        for (int l = 0; l < c.numLayers(); l++) {
            k[l] = out.get("k" + l);
            v[l] = out.get("v" + l);
        }
        return new Prefill(out.get("hidden"), k, v);
    }

    /** Token embeddings (n, d) of {@code ids}. */
    public INDArray embed(int[] ids) {
        INDArray table = params.get("model.embed_tokens.weight");
        for (int id : ids) {
            if (id < 0 || id >= table.size(0)) throw new IllegalArgumentException("Token id " + id + " is outside the vocabulary of " + table.size(0));
        }
        return Nd4j.pullRows(table, 1, ids);
    }

    /**
     * The vision tower on one image of any grid: {@code patches} (gridH * gridW, 3*T*p*p) in merge-window order
     * gives (gridH * gridW / merge^2, d) image tokens. Hugging Face runs all images of a batch in one call with
     * block-diagonal attention; one call per image computes the same thing.
     */
    public INDArray encodeImage(INDArray patches, int gridH, int gridW) {
        INDArray[] rope = ImagePatches.rope(c, gridH, gridW);
        Map<String, INDArray> in = new HashMap<>();
        in.put("patches", patches.reshape(1, patches.size(0), patches.size(1)));
        in.put("vcos", rope[0]);
        in.put("vsin", rope[1]);
        INDArray out = visionGraph().output(in, "image").get("image");
        return out.reshape(out.size(1), out.size(2));
    }

    private void checkLength(PromptBatch batch) {
        if (batch.length() > c.maxContextTokens()) {
            throw new IllegalArgumentException("Prompt of " + batch.length() + " tokens exceeds the context limit of "
                    + c.maxContextTokens() + " tokens (LatteConfig.maxContextTokens)");
        }
    }

    private int[][] decode(PromptBatch batch, Prefill pre, Decoding opt, long[] seeds) {
        int rows = batch.batch();
        KvCache cache = new KvCache(pre.keys(), pre.values(), batch.keyMask(), opt.maxNewTokens());
        INDArray last = Nd4j.create(rows, c.hiddenSize());
        for (int b = 0; b < rows; b++) {
            last.putRow(b, pre.hidden().get(NDArrayIndex.point(b), NDArrayIndex.point(batch.lengths()[b] - 1), NDArrayIndex.all()));
        }
        int[][] tokens = new int[rows][opt.maxNewTokens()];
        int[] produced = new int[rows];
        boolean[] done = new boolean[rows];
        Random[] random = new Random[rows];
        for (int b = 0; b < rows; b++) random[b] = new Random(seeds[b]);
        for (int step = 0; step < opt.maxNewTokens(); step++) {
            INDArray logits = last.mmul(lmHead().transpose());                  // (batch, vocab)
            int[] next = new int[rows];
            boolean all = true;
            for (int b = 0; b < rows; b++) {
                next[b] = done[b] ? opt.padId() : pick(logits.getRow(b), opt, random[b]);
                if (!done[b] && opt.stopIds().contains(next[b])) done[b] = true;
                else if (!done[b]) tokens[b][produced[b]++] = next[b];
                all &= done[b];
            }
            if (all || step == opt.maxNewTokens() - 1) break;
            long[][][] pos = new long[rows][3][1];
            for (int b = 0; b < rows; b++) pos[b][0][0] = pos[b][1][0] = pos[b][2][0] = batch.nextPos()[b] + step;
            INDArray[] rope = io.latteflow.model.nn.Rope.mrope(pos, c.headDim(), c.ropeTheta(), c.mropeSection());
            Map<String, INDArray> in = new HashMap<>();
            in.put("ids", Nd4j.createFromArray(next).reshape(rows, 1));
            in.put("cos", rope[0]);
            in.put("sin", rope[1]);
            in.put("mask", cache.mask());
            String[] outs = new String[1 + 2 * c.numLayers()];
            outs[0] = "hidden";
            for (int l = 0; l < c.numLayers(); l++) {
                in.put("pk" + l, cache.keys(l));
                in.put("pv" + l, cache.values(l));
                outs[1 + 2 * l] = "k" + l;
                outs[2 + 2 * l] = "v" + l;
            }
            Map<String, INDArray> out = decodeGraph().output(in, outs);
            INDArray[] k = new INDArray[c.numLayers()], v = new INDArray[c.numLayers()];
            for (int l = 0; l < c.numLayers(); l++) {
                k[l] = out.get("k" + l);
                v[l] = out.get("v" + l);
            }
            cache.append(k, v);
            last = out.get("hidden").reshape(rows, c.hiddenSize());
        }
        int[][] result = new int[rows][];
        for (int b = 0; b < rows; b++) result[b] = java.util.Arrays.copyOf(tokens[b], produced[b]);
        return result;
    }

    private INDArray lmHead() {
        return params.has("lm_head.weight") ? params.get("lm_head.weight") : params.get("model.embed_tokens.weight");
    }

    private static int pick(INDArray logits, Decoding opt, Random random) {
        float[] z = logits.toFloatVector();
        int best = 0;
        for (int i = 1; i < z.length; i++) if (z[i] > z[best]) best = i;
        if (opt.temperature() <= 0) return best;
        double[] p = new double[z.length];
        double sum = 0;
        for (int i = 0; i < z.length; i++) sum += p[i] = Math.exp((z[i] - z[best]) / opt.temperature());
        Integer[] order = new Integer[z.length];
        for (int i = 0; i < z.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        double kept = 0;
        int n = 0;
        while (n < order.length && kept < opt.topP() * sum) kept += p[order[n++]];
        double r = random.nextDouble() * kept;
        for (int i = 0; i < n; i++) if ((r -= p[order[i]]) <= 0) return order[i];
        return order[n - 1];
    }

    /**
     * (1, n, imageTokens + n) one-hot rows: position i of an image sequence takes row i of
     * concat(imageTokens, textEmbeddings). A matmul rather than a gather, whose M2.1 gradient fails.
     */
    private INDArray spliceIndex(int n) {
        int imageTokens = c.imageTokens();
        INDArray select = Nd4j.zeros(1, n, imageTokens + n);
        for (int i = 0; i < n; i++) {
            boolean image = i >= PromptBatch.IMAGE_OFFSET && i < PromptBatch.IMAGE_OFFSET + imageTokens;
            select.putScalar(new long[]{0, i, image ? i - PromptBatch.IMAGE_OFFSET : imageTokens + i}, 1f);
        }
        return select;
    }

    private Map<String, INDArray> inputs(PromptBatch batch) {
        INDArray[] rope = batch.rope(c);
        Map<String, INDArray> in = new HashMap<>();
        in.put("ids", batch.ids());
        in.put("cos", rope[0]);
        in.put("sin", rope[1]);
        in.put("mask", batch.causalMask());
        return in;
    }

    /** Inputs of {@link #buildPrefill} for a batch: what training graphs that embed a prefill need. */
    public Map<String, INDArray> prefillInputs(PromptBatch batch, INDArray patches) {
        Map<String, INDArray> in = inputs(batch);
        if (batch.withImage()) {
            INDArray[] vrope = ImagePatches.rope(c);
            in.put("patches", patches);
            in.put("vcos", vrope[0]);
            in.put("vsin", vrope[1]);
            in.put("splice", spliceIndex(batch.length()));
        }
        return in;
    }

    /**
     * Adds the prefill to a graph: placeholders ids, cos, sin, mask (and patches, vcos, vsin, splice with an image);
     * returns the final normed hidden states and fills {@code keys}/{@code values} for layers 0..layers-1.
     */
    public static SDVariable buildPrefill(Net net, LatteConfig c, boolean withImage, boolean trainable, int layers,
                                          SDVariable[] keys, SDVariable[] values) {
        int dh = c.headDim();
        SDVariable ids = net.intInput("ids", -1, -1);
        SDVariable cos = net.input("cos", -1, 1, -1, dh), sin = net.input("sin", -1, 1, -1, dh);
        SDVariable mask = net.input("mask", -1, 1, -1, -1);
        SDVariable x = TextDecoder.embed(net, ids, trainable);                    // (batch, n, d)
        if (withImage) {
            int vdh = c.visionHeadDim(), pd = 3 * c.temporalPatchSize() * c.patchSize() * c.patchSize();
            SDVariable patches = net.input("patches", -1, c.visionPatches(), pd);
            SDVariable vcos = net.input("vcos", 1, 1, c.visionPatches(), vdh), vsin = net.input("vsin", 1, 1, c.visionPatches(), vdh);
            SDVariable image = VisionEncoder.encode(net, c, patches, vcos, vsin);   // (batch, imageTokens, d)
            SDVariable select = net.input("splice", 1, -1, -1);                     // (1, n, imageTokens + n)
            SDVariable all = net.sd.concat(1, image, x);                             // (batch, imageTokens + n, d)
            x = net.sd.mmul(net.sd.tile(select, net.sd.concat(0, net.reshape(net.size(ids, 0), 1L), net.sd.constant(Nd4j.createFromArray(1L, 1L)))), all);
        }
        for (int l = 0; l < layers; l++) {
            TextDecoder.LayerOut o = TextDecoder.layer(net, c, l, x, cos, sin, mask, null, null);
            x = o.hidden();
            keys[l] = o.keys();
            values[l] = o.values();
        }
        return net.rmsNorm(x, "model.norm.weight", c.rmsNormEps());
    }

    private synchronized Net graph(boolean withImage) {
        if (withImage && imagePrefill != null) return imagePrefill;
        if (!withImage && textPrefill != null) return textPrefill;
        Net net = new Net(params);
        SDVariable[] k = new SDVariable[c.numLayers()], v = new SDVariable[c.numLayers()];
        buildPrefill(net, c, withImage, false, c.numLayers(), k, v).rename("hidden");
        for (int l = 0; l < c.numLayers(); l++) {
            net.sd.identity("k" + l, k[l]);
            net.sd.identity("v" + l, v[l]);
        }
        if (withImage) imagePrefill = net;
        else textPrefill = net;
        return net;
    }

    private synchronized Net embeddedGraph() {
        if (embeddedPrefill != null) return embeddedPrefill;
        Net net = new Net(params);
        int dh = c.headDim();
        SDVariable x = net.input("embeds", -1, -1, c.hiddenSize());
        decoderStack(net, x, net.input("cos", -1, 1, -1, dh), net.input("sin", -1, 1, -1, dh), net.input("mask", -1, 1, -1, -1), false);
        embeddedPrefill = net;
        return net;
    }

    /**
     * Every decoder layer over x, each layer's keys and values as outputs k0, v0, ... and the final normed states as
     * "hidden"; with {@code cached}, each layer also reads the earlier tokens' keys and values from inputs pk0, pv0, ...
     */
    private void decoderStack(Net net, SDVariable x, SDVariable cos, SDVariable sin, SDVariable mask, boolean cached) {
        int dh = c.headDim();
        for (int l = 0; l < c.numLayers(); l++) {
            SDVariable pk = cached ? net.input("pk" + l, -1, c.numKvHeads(), -1, dh) : null;
            SDVariable pv = cached ? net.input("pv" + l, -1, c.numKvHeads(), -1, dh) : null;
            TextDecoder.LayerOut o = TextDecoder.layer(net, c, l, x, cos, sin, mask, pk, pv);
            x = o.hidden();
            net.sd.identity("k" + l, o.keys());
            net.sd.identity("v" + l, o.values());
        }
        net.rmsNorm(x, "model.norm.weight", c.rmsNormEps()).rename("hidden");
    }

    private synchronized Net visionGraph() {
        if (vision != null) return vision;
        Net net = new Net(params);
        int vdh = c.visionHeadDim(), pd = 3 * c.temporalPatchSize() * c.patchSize() * c.patchSize();
        SDVariable patches = net.input("patches", 1, -1, pd);
        SDVariable vcos = net.input("vcos", 1, 1, -1, vdh), vsin = net.input("vsin", 1, 1, -1, vdh);
        VisionEncoder.encode(net, c, patches, vcos, vsin).rename("image");
        vision = net;
        return net;
    }

    private synchronized Net decodeGraph() {
        if (decode != null) return decode;
        Net net = new Net(params);
        int dh = c.headDim();
        SDVariable x = TextDecoder.embed(net, net.intInput("ids", -1, 1), false);
        decoderStack(net, x, net.input("cos", -1, 1, 1, dh), net.input("sin", -1, 1, 1, dh), net.input("mask", -1, 1, 1, -1), true);
        decode = net;
        return decode;
    }

    /** Prefills run so far (one per request batch, whatever the number of sampling steps). */
    public long prefillCount() {
        return prefills.get();
    }
}
