package io.latteflow.model.latent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.io.SafeTensors;
import io.latteflow.model.latent.DcAeConfig.Act;
import io.latteflow.model.latent.DcAeConfig.Block;
import io.latteflow.model.latent.DcAeConfig.Norm;
import io.latteflow.model.latent.DcAeConfig.Stage;
import io.latteflow.model.nn.BlasKernels;
import io.latteflow.model.nn.Net;
import io.latteflow.model.nn.ParamStore;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * DC-AE (Deep Compression Autoencoder) as a {@link LatentCodec}: images in [0, 1] to latent tokens (batch, h w,
 * latentChannels) multiplied by the scaling factor, and back. Loads diffusers' {@code AutoencoderDC} folders
 * ({@code config.json} + {@code diffusion_pytorch_model.safetensors}, e.g. {@code mit-han-lab/dc-ae-f32c32-in-1.0-diffusers})
 * and MIT Han Lab's own layout ({@code config.json} + {@code model.safetensors}, e.g. {@code mit-han-lab/dc-ae-f32c32-in-1.0}),
 * in F32, F16 or BF16. Every tensor is checked by name and shape before any is read.
 *
 * <pre>{@code
 * DcAeCodec codec = DcAeCodec.load(Path.of("dc-ae-f32c32-in-1.0-diffusers"), 256);
 * INDArray tokens = codec.encode(images);   // (batch, 64, 32)
 * INDArray back = codec.decode(tokens);     // (batch, 3, 256, 256) in [0, 1]
 * }</pre>
 *
 * The network follows diffusers' AutoencoderDC (docs/DCAE.md lists where its sources had to be read closely): images
 * enter in [-1, 1], decoder output is mapped back by (y + 1) / 2 and clipped. Graphs are built per image (or latent)
 * size on first use, batch free, and replayed by {@link Net}.
 */
public final class DcAeCodec implements LatentCodec {
    /** Which key layout a folder holds. */
    public enum Layout { DIFFUSERS, ORIGINAL }

    public static final String DIFFUSERS_WEIGHTS = "diffusion_pytorch_model.safetensors", ORIGINAL_WEIGHTS = "model.safetensors";

    static {
        BlasKernels.choose();          // before the first weight loads OpenBLAS: its fast kernels halve a conv's time here
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double NORM_EPS = 1e-5, ATTENTION_EPS = 1e-15;
    /**
     * Activations an encoder or decoder plan may keep between calls ({@code latte.replay.codecMaxBytes}, 2 GB): f32c32's
     * at 256x256 exceed the 256 MB other graphs keep, and remaking them at every call was slower (7.2 against 6.9 s of
     * CPU to encode) and peaked higher (3.9 against 2.8 GB resident: the remade plans' arrays wait for the collector).
     */
    private static final long REPLAY_BYTES = Long.getLong("latte.replay.codecMaxBytes", 2L << 30);

    private final DcAeConfig config;
    private final int imageSize;
    private final Layout layout;
    private final ParamStore params;
    private final Map<String, Graph> graphs = new HashMap<>();
    private Path folder;                 // where it was loaded from; null for a codec made here and not saved

    private DcAeCodec(DcAeConfig config, int imageSize, Layout layout, ParamStore params) {
        this.config = config;
        this.imageSize = imageSize;
        this.layout = layout;
        this.params = params;
    }

    // ---- loading ----

    /** The folder's layout: diffusers if it has {@value #DIFFUSERS_WEIGHTS}, the original if {@value #ORIGINAL_WEIGHTS}. */
    public static Layout layoutOf(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) throw new NoSuchFileException(folder.toString(), null, "not a DC-AE folder (no such directory)");
        if (!Files.isRegularFile(folder.resolve("config.json"))) throw new NoSuchFileException(folder.resolve("config.json").toString(), null, "a DC-AE folder needs config.json");
        if (Files.isRegularFile(folder.resolve(DIFFUSERS_WEIGHTS))) return Layout.DIFFUSERS;
        if (Files.isRegularFile(folder.resolve(ORIGINAL_WEIGHTS))) return Layout.ORIGINAL;
        throw new NoSuchFileException(folder.toString(), null, "a DC-AE folder needs " + DIFFUSERS_WEIGHTS + " (diffusers) or "
                + ORIGINAL_WEIGHTS + " (efficientvit layout)");
    }

    /** The configuration of a DC-AE folder of either layout, without reading its weights. */
    public static DcAeConfig readConfig(Path folder) throws IOException {
        Layout layout = layoutOf(folder);
        JsonNode json;
        try {
            json = JSON.readTree(folder.resolve("config.json").toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("Invalid DC-AE config " + folder.resolve("config.json") + ": not JSON (" + e.getOriginalMessage() + ")");
        }
        return layout == Layout.DIFFUSERS ? DcAeConfig.fromDiffusers(json) : DcAeConfig.fromOriginal(json);
    }

    /**
     * Loads a DC-AE folder for images of {@code imageSize} pixels a side (a multiple of its spatial factor). The
     * config, the image size and every tensor's name and shape are checked before any weight is read.
     */
    public static DcAeCodec load(Path folder, int imageSize) throws IOException {
        Layout layout = layoutOf(folder);
        DcAeConfig config = readConfig(folder);
        int f = config.spatialFactor();
        if (imageSize < f || imageSize % f != 0 || imageSize > 16384) {
            throw new IllegalArgumentException("Image size " + imageSize + " must be a positive multiple of the DC-AE's spatial factor " + f + " (at most 16384)");
        }
        Path file = folder.resolve(layout == Layout.DIFFUSERS ? DIFFUSERS_WEIGHTS : ORIGINAL_WEIGHTS);
        List<Spec> specs = specs(config);
        try (SafeTensors st = SafeTensors.open(file)) {
            checkTensors(st, file, specs, layout);
            ParamStore params = new ParamStore(0);
            for (Spec s : specs) s.load(st, layout, params);
            DcAeCodec codec = new DcAeCodec(config, imageSize, layout, params);
            codec.folder = folder;
            return codec;
        }
    }

    /**
     * A fresh, untrained DC-AE of this config for {@code imageSize} images, to be trained with {@link #reconstruction}
     * and written with {@link #save}. Only RMS norms: a batch norm's statistics are not trained here.
     */
    public static DcAeCodec create(DcAeConfig config, int imageSize, long seed) {
        int f = config.spatialFactor();
        if (imageSize < f || imageSize % f != 0 || imageSize > 16384) {
            throw new IllegalArgumentException("Image size " + imageSize + " must be a positive multiple of the DC-AE's spatial factor " + f + " (at most 16384)");
        }
        for (Stage s : config.decoder()) {
            if (s.norm() == Norm.BATCH && s.depth() > 0) {
                throw new IllegalArgumentException("A DC-AE to be trained must use RMS norms: its decoder has batch norms, whose running statistics are not trained here");
            }
        }
        config.toDiffusers();                                   // refuses what diffusers' layout cannot describe
        ParamStore params = new ParamStore(seed);
        for (Spec s : specs(config)) s.init(params);
        return new DcAeCodec(config, imageSize, Layout.DIFFUSERS, params);
    }

    /**
     * Writes this codec as a diffusers folder ({@code config.json} + {@value #DIFFUSERS_WEIGHTS}, F32) that {@link #load}
     * and diffusers' {@code AutoencoderDC.from_pretrained} read, with {@code scalingFactor} in its config.
     */
    public void save(Path folder, double scalingFactor) throws IOException {
        DcAeConfig out = config.withScalingFactor(scalingFactor);
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        for (Spec s : specs(config)) s.save(params, tensors);
        Files.createDirectories(folder);
        SafeTensors.write(folder.resolve(DIFFUSERS_WEIGHTS), tensors, io.latteflow.model.io.DType.F32, Map.of("format", "pt"));
        JSON.writerWithDefaultPrettyPrinter().writeValue(folder.resolve("config.json").toFile(), out.toDiffusers());
    }

    /** The folder this codec was loaded from (null for one made by {@link #create}). */
    public Path folder() {
        return folder;
    }

    /**
     * Copies the folder this codec was loaded from ({@code config.json} and its weights file) to {@code target},
     * unless it is that folder: a model saved elsewhere takes its codec along.
     */
    public void copyFolderTo(Path target) throws IOException {
        if (folder == null) throw new IOException("This DC-AE was not loaded from a folder; save it with save(folder, scalingFactor)");
        copyFolder(folder, target);
    }

    /** Copies a DC-AE folder of either layout ({@code config.json} and its weights file) to {@code target}, unless it is that folder. */
    public static void copyFolder(Path from, Path target) throws IOException {
        Layout layout = layoutOf(from);
        Files.createDirectories(target);
        if (Files.isSameFile(from, target)) return;
        String weights = layout == Layout.DIFFUSERS ? DIFFUSERS_WEIGHTS : ORIGINAL_WEIGHTS;
        for (String f : List.of("config.json", weights)) {
            Files.copy(from.resolve(f), target.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The same codec (weights shared) with another scaling factor. */
    public DcAeCodec withScaling(double scalingFactor) {
        return new DcAeCodec(config.withScalingFactor(scalingFactor), imageSize, layout, params);
    }

    /** The weights, by internal name, shared with every graph: a trainer updates them in place. */
    /** Frees the weights and every plan of the encoder and decoder graphs ({@link ParamStore#close}). */
    @Override
    public void close() {
        params.close();
    }

    public ParamStore weights() {
        return params;
    }

    private static void checkTensors(SafeTensors st, Path file, List<Spec> specs, Layout layout) throws IOException {
        Set<String> expected = new LinkedHashSet<>();
        List<String> problems = new ArrayList<>();
        for (Spec s : specs) {
            for (Map.Entry<String, long[]> e : s.sources(layout).entrySet()) {
                expected.add(e.getKey());
                if (!st.names().contains(e.getKey())) {
                    problems.add("missing tensor " + e.getKey() + " " + Arrays.toString(e.getValue()));
                    continue;
                }
                SafeTensors.TensorInfo info = st.info(e.getKey());
                if (!Arrays.equals(info.shape(), e.getValue())) {
                    problems.add("tensor " + e.getKey() + " has shape " + Arrays.toString(info.shape()) + ", the config needs " + Arrays.toString(e.getValue()));
                } else if (!Set.of("F32", "F16", "BF16").contains(info.dtype())) {
                    problems.add("tensor " + e.getKey() + " is " + info.dtype() + " (F32, F16 or BF16 needed)");
                }
            }
        }
        for (String name : st.names()) {
            if (!expected.contains(name) && !name.endsWith(".num_batches_tracked")) problems.add("unexpected tensor " + name + " (not in this config)");
        }
        if (!problems.isEmpty()) {
            int shown = Math.min(problems.size(), 8);
            throw new IllegalArgumentException("DC-AE weights " + file + " (" + layout.name().toLowerCase() + " layout) do not match config.json: "
                    + String.join("; ", problems.subList(0, shown)) + (problems.size() > shown ? "; and " + (problems.size() - shown) + " more" : ""));
        }
    }

    // ---- the tensors a config needs, in both layouts ----

    private enum Kind {
        /** torch conv (O, I, k, k) -> (k, k, I, O). */ CONV,
        /** torch linear (O, I), or 1x1 conv (O, I, 1, 1) in the original layout; diffusers may split it in row blocks -> (1, 1, I, O). */ LINEAR,
        /** torch depthwise conv (C, 1, k, k) -> (k, k, C, 1). */ DEPTHWISE,
        /** torch grouped 1x1 conv (C, C/G, 1, 1) -> (G, C/G, C/G). */ GROUPED,
        /** a conv bias, kept as (C). */ BIAS,
        /** an RMS norm's weight or bias -> (1, C, 1, 1). */ CHANNEL,
        /** a batch norm: weight, bias, running mean and variance folded into scale and shift, each (1, C, 1, 1). */ BATCH_NORM
    }

    /**
     * One internal weight: its name (diffusers' name, or for fused q/k/v the name diffusers' parts share), the torch
     * shape, its diffusers source names (several when diffusers splits it) and its original source name.
     */
    private record Spec(String name, Kind kind, long[] shape, List<String> diffusers, String original) {
        /** Source tensor names with their expected shapes, in a layout. */
        Map<String, long[]> sources(Layout layout) {
            Map<String, long[]> out = new LinkedHashMap<>();
            if (kind == Kind.BATCH_NORM) {
                String prefix = layout == Layout.DIFFUSERS ? diffusers.get(0) : original;
                for (String p : List.of("weight", "bias", "running_mean", "running_var")) out.put(prefix + "." + p, shape);
            } else if (kind == Kind.LINEAR && layout == Layout.DIFFUSERS) {
                for (String d : diffusers) out.put(d, new long[] {shape[0] / diffusers.size(), shape[1]});
            } else if (kind == Kind.LINEAR) {
                out.put(original, new long[] {shape[0], shape[1], 1, 1});
            } else {
                out.put(layout == Layout.DIFFUSERS ? diffusers.get(0) : original, shape);
            }
            return out;
        }

        /** This weight in diffusers' names and torch shapes, the inverse of {@link #load} (no batch norm: it is folded). */
        void save(ParamStore params, Map<String, INDArray> out) {
            INDArray w = params.get(name);
            switch (kind) {
                case CONV -> out.put(diffusers.get(0), w.permute(3, 2, 0, 1).dup('c'));
                case LINEAR -> {
                    INDArray t = w.reshape('c', shape[1], shape[0]).transpose().dup('c');                 // (O, I)
                    long rows = shape[0] / diffusers.size();
                    for (int k = 0; k < diffusers.size(); k++) {
                        out.put(diffusers.get(k), t.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(k * rows, (k + 1) * rows),
                                org.nd4j.linalg.indexing.NDArrayIndex.all()).dup('c'));
                    }
                }
                case DEPTHWISE -> out.put(diffusers.get(0), w.reshape('c', shape[2], shape[3], shape[0]).permute(2, 0, 1).dup('c').reshape('c', shape));
                case GROUPED, CHANNEL, BIAS -> out.put(diffusers.get(0), w.dup('c').reshape('c', shape));
                case BATCH_NORM -> throw new IllegalStateException("a batch norm is folded into scale and shift when loaded and cannot be saved: " + name);
            }
        }

        /** A fresh weight: convolutions and projections normal with variance 1 / fan-in, biases 0, norms 1 and 0. */
        void init(ParamStore params) {
            switch (kind) {
                case CONV -> params.normal(name, Math.sqrt(1.0 / (shape[1] * shape[2] * shape[3])), shape[2], shape[3], shape[1], shape[0]);
                case LINEAR -> params.normal(name, Math.sqrt(1.0 / shape[1]), 1, 1, shape[1], shape[0]);
                case DEPTHWISE -> params.normal(name, Math.sqrt(1.0 / (shape[2] * shape[3])), shape[2], shape[3], shape[0], 1);
                case GROUPED -> params.normal(name, Math.sqrt(1.0 / shape[1]), shape[0] / shape[1], shape[1], shape[1]);
                case BIAS -> params.zeros(name, shape[0]);
                case CHANNEL -> {
                    if (name.endsWith(".weight")) params.ones(name, 1, shape[0], 1, 1);
                    else params.zeros(name, 1, shape[0], 1, 1);
                }
                case BATCH_NORM -> throw new IllegalArgumentException("a DC-AE to be trained must use RMS norms, not batch norm (" + name + ")");
            }
        }

        void load(SafeTensors st, Layout layout, ParamStore params) throws IOException {
            List<INDArray> parts = new ArrayList<>();
            for (String source : sources(layout).keySet()) parts.add(st.get(source));
            switch (kind) {
                case CONV -> params.put(name, parts.get(0).permute(2, 3, 1, 0).dup('c'));
                case LINEAR -> {
                    INDArray w = (parts.size() == 1 ? parts.get(0) : Nd4j.concat(0, parts.toArray(new INDArray[0]))).reshape('c', shape[0], shape[1]);
                    params.put(name, w.transpose().reshape('c', 1, 1, shape[1], shape[0]).dup('c'));
                }
                case DEPTHWISE -> params.put(name, parts.get(0).reshape('c', shape[0], shape[2], shape[3]).permute(1, 2, 0).dup('c').reshape('c', shape[2], shape[3], shape[0], 1));
                case GROUPED -> params.put(name, parts.get(0).reshape('c', shape[0] / shape[1], shape[1], shape[1]).dup('c'));
                case BIAS -> params.put(name, parts.get(0).dup('c'));
                case CHANNEL -> params.put(name, parts.get(0).reshape('c', 1, shape[0], 1, 1).dup('c'));
                case BATCH_NORM -> {
                    INDArray weight = parts.get(0), bias = parts.get(1), mean = parts.get(2), var = parts.get(3);
                    INDArray scale = weight.div(Transforms.sqrt(var.add(NORM_EPS), false));
                    params.put(name + ".scale", scale.reshape('c', 1, shape[0], 1, 1).dup('c'));
                    params.put(name + ".shift", bias.sub(mean.mul(scale)).reshape('c', 1, shape[0], 1, 1).dup('c'));
                }
            }
            // every case stored a copy: free the file's arrays now rather than when the collector finds them (1.3 GB of
            // them for f32c32)
            for (INDArray part : parts) if (part.closeable()) part.close();
        }
    }

    /** Collects the specs of a config, naming each tensor in both layouts as bench/dcae_ref.py's to_original does. */
    private static final class SpecList {
        final List<Spec> out = new ArrayList<>();

        void conv(String d, String o, long outC, long inC, int k, boolean bias) {
            out.add(new Spec(d + ".weight", Kind.CONV, new long[] {outC, inC, k, k}, List.of(d + ".weight"), o + ".weight"));
            if (bias) out.add(new Spec(d + ".bias", Kind.BIAS, new long[] {outC}, List.of(d + ".bias"), o + ".bias"));
        }

        void norm(Norm kind, String d, String o, long c) {
            if (kind == Norm.BATCH) {
                out.add(new Spec(d, Kind.BATCH_NORM, new long[] {c}, List.of(d), o));
            } else {
                out.add(new Spec(d + ".weight", Kind.CHANNEL, new long[] {c}, List.of(d + ".weight"), o + ".weight"));
                out.add(new Spec(d + ".bias", Kind.CHANNEL, new long[] {c}, List.of(d + ".bias"), o + ".bias"));
            }
        }

        void block(Stage s, int headDim, String d, String o) {
            long w = s.width();
            if (s.block() == Block.RES) {
                conv(d + ".conv1", o + ".main.conv1.conv", w, w, 3, true);
                conv(d + ".conv2", o + ".main.conv2.conv", w, w, 3, false);
                norm(s.norm(), d + ".norm", o + ".main.conv2.norm", w);
                return;
            }
            long inner = (w / headDim) * headDim, qkv = 3 * inner;
            String a = o + ".context_module.main", g = o + ".local_module.main";
            out.add(new Spec(d + ".attn.qkv.weight", Kind.LINEAR, new long[] {qkv, w},
                    List.of(d + ".attn.to_q.weight", d + ".attn.to_k.weight", d + ".attn.to_v.weight"), a + ".qkv.conv.weight"));
            for (int i = 0; i < s.scales().size(); i++) {
                int k = s.scales().get(i);
                String ms = d + ".attn.to_qkv_multiscale." + i;
                out.add(new Spec(ms + ".proj_in.weight", Kind.DEPTHWISE, new long[] {qkv, 1, k, k}, List.of(ms + ".proj_in.weight"), a + ".aggreg." + i + ".0.weight"));
                out.add(new Spec(ms + ".proj_out.weight", Kind.GROUPED, new long[] {qkv, headDim, 1, 1}, List.of(ms + ".proj_out.weight"), a + ".aggreg." + i + ".1.weight"));
            }
            out.add(new Spec(d + ".attn.to_out.weight", Kind.LINEAR, new long[] {w, inner * (1 + s.scales().size())}, List.of(d + ".attn.to_out.weight"), a + ".proj.conv.weight"));
            norm(s.norm(), d + ".attn.norm_out", a + ".proj.norm", w);
            long hidden = 4 * w;
            conv(d + ".conv_out.conv_inverted", g + ".inverted_conv.conv", 2 * hidden, w, 1, true);
            out.add(new Spec(d + ".conv_out.conv_depth.weight", Kind.DEPTHWISE, new long[] {2 * hidden, 1, 3, 3}, List.of(d + ".conv_out.conv_depth.weight"), g + ".depth_conv.conv.weight"));
            out.add(new Spec(d + ".conv_out.conv_depth.bias", Kind.BIAS, new long[] {2 * hidden}, List.of(d + ".conv_out.conv_depth.bias"), g + ".depth_conv.conv.bias"));
            conv(d + ".conv_out.conv_point", g + ".point_conv.conv", w, hidden, 1, false);
            norm(Norm.RMS, d + ".conv_out.norm", g + ".point_conv.norm", w);
        }
    }

    private static List<Spec> specs(DcAeConfig c) {
        SpecList l = new SpecList();
        List<Stage> enc = c.encoder(), dec = c.decoder();
        int n = enc.size(), m = dec.size(), dh = c.attentionHeadDim();
        // encoder
        if (enc.get(0).depth() > 0) {
            l.conv("encoder.conv_in", "encoder.project_in.conv", enc.get(0).width(), c.inChannels(), 3, true);
        } else {
            int w1 = enc.get(1).width();
            l.conv("encoder.conv_in.conv", "encoder.project_in.conv" + (c.pixelUnshuffle() ? ".conv" : ""), c.pixelUnshuffle() ? w1 / 4 : w1, c.inChannels(), 3, true);
        }
        for (int i = 0; i < n; i++) {
            Stage s = enc.get(i);
            for (int j = 0; j < s.depth(); j++) l.block(s, dh, "encoder.down_blocks." + i + "." + j, "encoder.stages." + i + ".op_list." + j);
            if (i < n - 1 && s.depth() > 0) {
                int next = enc.get(i + 1).width();
                l.conv("encoder.down_blocks." + i + "." + s.depth() + ".conv", "encoder.stages." + i + ".op_list." + s.depth() + ".main.conv" + (c.pixelUnshuffle() ? ".conv" : ""),
                        c.pixelUnshuffle() ? next / 4 : next, s.width(), 3, true);
            }
        }
        l.conv("encoder.conv_out", "encoder.project_out." + (c.encoderOutShortcut() ? "main." : "") + "op_list.0.conv", c.latentChannels(), enc.get(n - 1).width(), 3, true);
        // decoder
        l.conv("decoder.conv_in", "decoder.project_in." + (c.decoderInShortcut() ? "main." : "") + "conv", dec.get(m - 1).width(), c.latentChannels(), 3, true);
        for (int i = m - 1; i >= 0; i--) {
            Stage s = dec.get(i);
            int first = 0;
            if (i < m - 1 && s.depth() > 0) {
                l.conv("decoder.up_blocks." + i + ".0.conv", "decoder.stages." + i + ".op_list.0.main.conv.conv", c.pixelShuffle() ? 4L * s.width() : s.width(), dec.get(i + 1).width(), 3, true);
                first = 1;
            }
            for (int j = 0; j < s.depth(); j++) l.block(s, dh, "decoder.up_blocks." + i + "." + (first + j), "decoder.stages." + i + ".op_list." + (first + j));
        }
        int last = dec.get(0).depth() > 0 ? dec.get(0).width() : dec.get(1).width();
        l.norm(Norm.RMS, "decoder.norm_out", "decoder.project_out.op_list.0", last);
        if (dec.get(0).depth() > 0) {
            l.conv("decoder.conv_out", "decoder.project_out.op_list.2.conv", c.inChannels(), last, 3, true);
        } else {
            l.conv("decoder.conv_out.conv", "decoder.project_out.op_list.2.conv.conv", c.pixelShuffle() ? 4L * c.inChannels() : c.inChannels(), last, 3, true);
        }
        return l.out;
    }

    // ---- the codec ----

    public DcAeConfig config() {
        return config;
    }

    public Layout layout() {
        return layout;
    }

    public int imageSize() {
        return imageSize;
    }

    /** Side of the latent grid: imageSize / spatial factor. */
    public int latentSide() {
        return imageSize / config.spatialFactor();
    }

    @Override
    public int tokens() {
        return latentSide() * latentSide();
    }

    @Override
    public int dim() {
        return config.latentChannels();
    }

    /** Images (batch, 3, size, size) in [0, 1] to tokens (batch, h w, latentChannels), times the scaling factor. */
    @Override
    public INDArray encode(INDArray images) {
        long[] s = images.shape();
        if (s.length != 4 || s[1] != config.inChannels() || s[2] != imageSize || s[3] != imageSize) {
            throw new IllegalArgumentException("Images must be (batch, " + config.inChannels() + ", " + imageSize + ", " + imageSize + "), got " + Arrays.toString(s));
        }
        INDArray z = encodeLatents(images.castTo(DataType.FLOAT).mul(2).subi(1));
        long b = s[0];
        return z.mul(config.scalingFactor()).reshape('c', b, config.latentChannels(), tokens()).permute(0, 2, 1).dup('c');
    }

    /** Tokens (batch, h w, latentChannels) back to images (batch, 3, size, size), clipped to [0, 1]. */
    @Override
    public INDArray decode(INDArray tokens) {
        long[] s = tokens.shape();
        if (s.length != 3 || s[1] != tokens() || s[2] != config.latentChannels()) {
            throw new IllegalArgumentException("Tokens must be (batch, " + tokens() + ", " + config.latentChannels() + "), got " + Arrays.toString(s));
        }
        int side = latentSide();
        INDArray z = tokens.castTo(DataType.FLOAT).permute(0, 2, 1).dup('c').reshape('c', s[0], config.latentChannels(), side, side).div(config.scalingFactor());
        INDArray y = decodeLatents(z);
        return Transforms.min(Transforms.max(y.addi(1).divi(2), 0.0, false), 1.0, false);
    }

    /** The encoder itself: images (batch, C, H, W) in [-1, 1] to unscaled latents (batch, latent, H/f, W/f). */
    public INDArray encodeLatents(INDArray x) {
        long[] s = x.shape();
        int f = config.spatialFactor();
        if (s.length != 4 || s[1] != config.inChannels() || s[2] % f != 0 || s[3] % f != 0 || s[2] == 0 || s[3] == 0) {
            throw new IllegalArgumentException("Encoder input must be (batch, " + config.inChannels() + ", H, W) with H and W multiples of " + f + ", got " + Arrays.toString(s));
        }
        return graph(true, (int) s[2], (int) s[3]).run(x);
    }

    /** The decoder itself: unscaled latents (batch, latent, h, w) to images (batch, C, h f, w f), about [-1, 1]. */
    public INDArray decodeLatents(INDArray z) {
        long[] s = z.shape();
        if (s.length != 4 || s[1] != config.latentChannels() || s[2] == 0 || s[3] == 0) {
            throw new IllegalArgumentException("Decoder input must be (batch, " + config.latentChannels() + ", h, w), got " + Arrays.toString(s));
        }
        return graph(false, (int) s[2], (int) s[3]).run(z);
    }

    /**
     * The reconstruction loss of a batch of images (batch, C, size, size) in [0, 1] (mean absolute plus mean squared
     * error in [-1, 1]) and its gradient for every weight, by internal name, for an optimizer to apply to
     * {@link #weights}. The training graph is built on the first call.
     */
    public org.nd4j.autodiff.samediff.api.OutAndGrad reconstruction(INDArray images) {
        long[] s = images.shape();
        if (s.length != 4 || s[1] != config.inChannels() || s[2] != imageSize || s[3] != imageSize) {
            throw new IllegalArgumentException("Images must be (batch, " + config.inChannels() + ", " + imageSize + ", " + imageSize + "), got " + Arrays.toString(s));
        }
        Graph g;
        synchronized (graphs) {
            g = graphs.computeIfAbsent("training", k -> new Graph(imageSize, imageSize));
        }
        return g.net.gradients(Map.of("x", images.castTo(DataType.FLOAT)), g.output, params.all().keySet());
    }

    private Graph graph(boolean encoder, int h, int w) {
        synchronized (graphs) {
            return graphs.computeIfAbsent((encoder ? "encoder " : "decoder ") + h + "x" + w, k -> new Graph(encoder, h, w));
        }
    }

    /** A built encoder or decoder for one spatial size (batch free). */
    private final class Graph {
        private final Net net;
        private final SameDiff sd;
        private final String output;

        /** A feature map with its static channels and size. */
        private record F(SDVariable v, long c, long h, long w) { }

        Graph(boolean encoder, int h, int w) {
            net = Net.withReplayBudget(params, REPLAY_BYTES);
            sd = net.sd;
            F x = new F(net.input("x", -1, encoder ? config.inChannels() : config.latentChannels(), h, w),
                    encoder ? config.inChannels() : config.latentChannels(), h, w);
            output = sd.identity(encoder ? "latents" : "images", (encoder ? encoder(x) : decoder(x)).v()).name();
        }

        /**
         * The training graph: images x (batch, C, h, w) in [0, 1] through encoder and decoder; the loss is the mean
         * absolute plus the mean squared error in [-1, 1] (L1 for sharp edges on flat emoji colours, L2 for PSNR).
         */
        Graph(int h, int w) {
            net = Net.forTraining(params);
            sd = net.sd;
            SDVariable x = net.input("x", -1, config.inChannels(), h, w).mul(2.0).sub(1.0);
            F y = decoder(encoder(new F(x, config.inChannels(), h, w)));
            SDVariable diff = y.v().sub(x);
            output = sd.math.abs(diff).mean().add(diff.mul(diff).mean()).rename("loss").name();
        }

        INDArray run(INDArray x) {
            return net.output(Map.of("x", x.castTo(DataType.FLOAT)), output).get(output);
        }

        private F encoder(F x) {
            List<Stage> enc = config.encoder();
            int n = enc.size();
            x = enc.get(0).depth() > 0 ? conv(x, "encoder.conv_in", 3, 1, true) : down(x, "encoder.conv_in", false);
            for (int i = 0; i < n; i++) {
                Stage s = enc.get(i);
                for (int j = 0; j < s.depth(); j++) x = block(x, s, "encoder.down_blocks." + i + "." + j);
                if (i < n - 1 && s.depth() > 0) x = down(x, "encoder.down_blocks." + i + "." + s.depth(), true);
            }
            F y = conv(x, "encoder.conv_out", 3, 1, true);
            return config.encoderOutShortcut() ? add(y, channelMean(x, config.latentChannels())) : y;
        }

        private F decoder(F z) {
            List<Stage> dec = config.decoder();
            int m = dec.size();
            F x = conv(z, "decoder.conv_in", 3, 1, true);
            if (config.decoderInShortcut()) x = add(x, repeatChannels(z, x.c() / z.c()));
            for (int i = m - 1; i >= 0; i--) {
                Stage s = dec.get(i);
                int first = 0;
                if (i < m - 1 && s.depth() > 0) {
                    x = up(x, "decoder.up_blocks." + i + ".0", s.width(), true);
                    first = 1;
                }
                for (int j = 0; j < s.depth(); j++) x = block(x, s, "decoder.up_blocks." + i + "." + (first + j));
            }
            x = act(rms(x, "decoder.norm_out"), config.decoderOutAct());
            return dec.get(0).depth() > 0 ? conv(x, "decoder.conv_out", 3, 1, true) : up(x, "decoder.conv_out", config.inChannels(), false);
        }

        // blocks

        private F block(F x, Stage s, String p) {
            if (s.block() == Block.RES) {
                F y = conv(act(conv(x, p + ".conv1", 3, 1, true), s.act()), p + ".conv2", 3, 1, false);
                return add(x, norm(y, p + ".norm", s.norm()));
            }
            x = add(x, norm(attention(x, s, p + ".attn"), p + ".attn.norm_out", s.norm()));
            return add(x, glu(x, p + ".conv_out"));
        }

        /**
         * ReLU linear attention with multi-scale q/k/v. The fused projection's channels are read as heads of 3 dim
         * consecutive channels (q, k, v); each aggregation scale adds as many heads. out = (v k^T) q / (1^T k^T q + eps)
         * per head, which both sources compute either this way or, on maps of at most dim cells, as the same
         * normalised ReLU attention matrix.
         */
        private F attention(F x, Stage s, String p) {
            int dh = config.attentionHeadDim();
            long n = x.h() * x.w();
            F qkv = linear(x, p + ".qkv");
            List<SDVariable> scales = new ArrayList<>(List.of(qkv.v()));
            for (int i = 0; i < s.scales().size(); i++) {
                String ms = p + ".to_qkv_multiscale." + i;
                F agg = depthwise(qkv, ms + ".proj_in.weight", null, s.scales().get(i));
                scales.add(grouped(agg, ms + ".proj_out.weight", dh).v());
            }
            long channels = qkv.c() * scales.size(), heads = channels / (3L * dh);
            SDVariable all = scales.size() == 1 ? qkv.v() : sd.concat(1, scales.toArray(new SDVariable[0]));
            SDVariable t = sd.reshape(all, -1, heads, 3L * dh, n);
            SDVariable q = sd.nn.relu(t.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(0, dh), SDIndex.all()), 0);
            SDVariable k = sd.nn.relu(t.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(dh, 2 * dh), SDIndex.all()), 0);
            SDVariable v = t.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(2 * dh, 3 * dh), SDIndex.all());
            SDVariable num = sd.mmul(sd.mmul(v, k, false, true, false), q);                 // (b, heads, dh, n)
            SDVariable den = sd.mmul(k.sum(true, 3), q, true, false, false);               // (b, heads, 1, n)
            SDVariable out = sd.reshape(net.scale(num, sd.math.reciprocal(den.add(ATTENTION_EPS))), -1, heads * dh, x.h(), x.w());
            return linear(new F(out, heads * dh, x.h(), x.w()), p + ".to_out");
        }

        /** GLU MBConv: 1x1 conv, SiLU, depthwise 3x3, half times SiLU(other half), 1x1 conv, RMS norm. */
        private F glu(F x, String p) {
            F y = depthwise(act(conv(x, p + ".conv_inverted", 1, 1, true), Act.SILU), p + ".conv_depth.weight", p + ".conv_depth.bias", 3);
            int half = (int) (y.c() / 2);
            SDVariable a = y.v().get(SDIndex.all(), SDIndex.interval(0, half), SDIndex.all(), SDIndex.all());
            SDVariable gate = y.v().get(SDIndex.all(), SDIndex.interval(half, 2 * half), SDIndex.all(), SDIndex.all());
            F gated = new F(a.mul(net.silu(gate)), half, y.h(), y.w());
            return rms(conv(gated, p + ".conv_point", 1, 1, false), p + ".norm");
        }

        /** 3x3 conv then pixel-unshuffle (or a stride-2 conv), plus the pixel-unshuffled input averaged over channel groups. */
        private F down(F x, String p, boolean shortcut) {
            F y = config.pixelUnshuffle() ? pixelUnshuffle(conv(x, p + ".conv", 3, 1, true)) : conv(x, p + ".conv", 3, 2, true);
            return shortcut ? add(y, channelMean(pixelUnshuffle(x), y.c())) : y;
        }

        /** 3x3 conv then pixel-shuffle (or nearest x2 then the conv), plus the input's channels repeated and pixel-shuffled. */
        private F up(F x, String p, long out, boolean shortcut) {
            F y = config.pixelShuffle() ? pixelShuffle(conv(x, p + ".conv", 3, 1, true)) : conv(nearest2x(x), p + ".conv", 3, 1, true);
            return shortcut ? add(y, pixelShuffle(repeatChannels(x, out * 4 / x.c()))) : y;
        }

        // layers

        private F conv(F x, String p, int k, int stride, boolean bias) {
            INDArray w = params.get(p + ".weight");                                          // (k, k, in, out)
            Conv2DConfig c = Conv2DConfig.builder().kH(k).kW(k).sH(stride).sW(stride).pH(k / 2).pW(k / 2).dataFormat("NCHW").build();
            SDVariable y = bias ? sd.cnn.conv2d(x.v(), net.p(p + ".weight"), net.p(p + ".bias"), c) : sd.cnn.conv2d(x.v(), net.p(p + ".weight"), c);
            return new F(y, w.size(3), (x.h() + 2L * (k / 2) - k) / stride + 1, (x.w() + 2L * (k / 2) - k) / stride + 1);
        }

        private F linear(F x, String p) {
            return conv(x, p, 1, 1, false);
        }

        private F depthwise(F x, String weight, String bias, int k) {
            Conv2DConfig c = Conv2DConfig.builder().kH(k).kW(k).sH(1).sW(1).pH(k / 2).pW(k / 2).dataFormat("NCHW").build();
            SDVariable y = bias == null ? sd.cnn.depthWiseConv2d(x.v(), net.p(weight), c) : sd.cnn.depthWiseConv2d(x.v(), net.p(weight), net.p(bias), c);
            return new F(y, x.c(), x.h(), x.w());
        }

        /** A grouped 1x1 conv (groups of dim channels) as one batched product over the groups: (G, dh, dh) x (G, dh, b n). */
        private F grouped(F x, String weight, int dh) {
            long g = x.c() / dh, n = x.h() * x.w();
            SDVariable t = sd.reshape(sd.permute(sd.reshape(x.v(), -1, g, dh, n), 1, 2, 0, 3), g, dh, -1);   // (G, dh, b n)
            SDVariable y = sd.mmul(net.p(weight), t);                                                          // (G, dh, b n)
            SDVariable back = sd.permute(sd.reshape(y, g, dh, -1, n), 2, 0, 1, 3);                               // (b, G, dh, n)
            return new F(sd.reshape(back, -1, x.c(), x.h(), x.w()), x.c(), x.h(), x.w());
        }

        /** RMS norm over the channel axis (axis 1, positive: keepDims with negative axes is wrong in M2.1), weight and bias. */
        private F rms(F x, String p) {
            SDVariable ms = x.v().mul(x.v()).mean(true, 1);
            SDVariable y = net.scale(net.scale(x.v(), sd.math.rsqrt(ms.add(NORM_EPS))), net.p(p + ".weight")).add(net.p(p + ".bias"));
            return new F(y, x.c(), x.h(), x.w());
        }

        private F norm(F x, String p, Norm kind) {
            if (kind == Norm.RMS) return rms(x, p);
            return new F(net.scale(x.v(), net.p(p + ".scale")).add(net.p(p + ".shift")), x.c(), x.h(), x.w());
        }

        private F act(F x, Act a) {
            return new F(a == Act.RELU ? sd.nn.relu(x.v(), 0) : net.silu(x.v()), x.c(), x.h(), x.w());
        }

        private F add(F a, F b) {
            return new F(a.v().add(b.v()), a.c(), a.h(), a.w());
        }

        /** torch.nn.functional.pixel_unshuffle(x, 2): out[c*4 + i*2 + j, y, x] = in[c, 2y + i, 2x + j]. */
        private F pixelUnshuffle(F x) {
            SDVariable t = sd.reshape(x.v(), -1, x.c(), x.h() / 2, 2, x.w() / 2, 2);
            SDVariable p = sd.permute(t, 0, 1, 3, 5, 2, 4);
            return new F(sd.reshape(p, -1, x.c() * 4, x.h() / 2, x.w() / 2), x.c() * 4, x.h() / 2, x.w() / 2);
        }

        /** torch.nn.functional.pixel_shuffle(x, 2), the inverse of {@link #pixelUnshuffle}. */
        private F pixelShuffle(F x) {
            long c = x.c() / 4;
            SDVariable t = sd.reshape(x.v(), -1, c, 2, 2, x.h(), x.w());
            SDVariable p = sd.permute(t, 0, 1, 4, 2, 5, 3);
            return new F(sd.reshape(p, -1, c, x.h() * 2, x.w() * 2), c, x.h() * 2, x.w() * 2);
        }

        /** Mean over groups of consecutive channels: (b, out * g, h, w) -> (b, out, h, w). */
        private F channelMean(F x, long out) {
            SDVariable t = sd.reshape(x.v(), -1, out, x.c() / out, x.h(), x.w());
            return new F(t.mean(false, 2), out, x.h(), x.w());
        }

        /** torch repeat_interleave(repeats, dim=1): each channel {@code repeats} times in a row. */
        private F repeatChannels(F x, long repeats) {
            SDVariable t = sd.tile(sd.reshape(x.v(), -1, x.c(), 1, x.h(), x.w()), 1, 1, (int) repeats, 1, 1);
            return new F(sd.reshape(t, -1, x.c() * repeats, x.h(), x.w()), x.c() * repeats, x.h(), x.w());
        }

        /** Nearest-neighbour upsampling by 2. */
        private F nearest2x(F x) {
            SDVariable t = sd.tile(sd.reshape(x.v(), -1, x.c(), x.h(), 1, x.w(), 1), 1, 1, 1, 2, 1, 2);
            return new F(sd.reshape(t, -1, x.c(), x.h() * 2, x.w() * 2), x.c(), x.h() * 2, x.w() * 2);
        }
    }
}
