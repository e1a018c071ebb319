package io.latteflow.model;

import io.latteflow.model.flow.ExpertGroup;
import io.latteflow.model.flow.TimestepPartition;
import io.latteflow.model.latent.DcAeCodec;
import io.latteflow.model.latent.LatentCodec;
import io.latteflow.model.latent.PixelPatchCodec;
import io.latteflow.model.nn.BlasKernels;
import io.latteflow.model.nn.LayerEvalCounter;
import io.latteflow.model.nn.ParamStore;
import io.latteflow.model.vlm.VisionLanguageModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The assembled network without text handling: backbone, expert groups, partition, latent codec and weights.
 * {@link LatteFlow} wraps it with tokenizer and requests; trainers and benchmarks use it directly.
 */
public final class LatteModel {
    static {
        BlasKernels.choose();                       // before the first model array loads OpenBLAS (issue 18)
    }

    private final LatteConfig config;
    private final ParamStore params;
    private final VisionLanguageModel vlm;
    private final List<ExpertGroup> groups;
    private final TimestepPartition partition;
    private final LatentCodec codec;
    private final LayerEvalCounter sampling = new LayerEvalCounter();

    /** A model with the codec its config names ({@link #codecFor}; a relative DC-AE folder from the working directory). */
    public LatteModel(LatteConfig config, ParamStore params) {
        this(config, params, codecOrThrow(config));
    }

    /** A model with the given codec, which must make the config's latent tokens (count and values per token). */
    public LatteModel(LatteConfig config, ParamStore params, LatentCodec codec) {
        if (codec.tokens() != config.latentTokens() || codec.dim() != config.latentDim()) {
            throw new IllegalArgumentException("The latent codec makes " + codec.tokens() + " tokens of " + codec.dim()
                    + " values, the config " + config.latentTokens() + " of " + config.latentDim() + " (genImageSize "
                    + config.genImageSize() + ", latentPatch " + config.latentPatch() + ", latentChannels " + config.latentChannels() + ")");
        }
        this.config = config;
        this.params = params;
        this.vlm = new VisionLanguageModel(config, params);
        List<ExpertGroup> g = new ArrayList<>();
        for (int k = 0; k < config.groups(); k++) g.add(new ExpertGroup(config, params, k, sampling));
        this.groups = Collections.unmodifiableList(g);
        this.partition = new TimestepPartition(config.groups(), config.overlap());
        this.codec = codec;
    }

    /**
     * The codec a config names (issue 20): the pixel patch codec, or a DC-AE folder loaded for {@code genImageSize}
     * pixels, relative to {@code modelDir} (the working directory when null).
     */
    public static LatentCodec codecFor(LatteConfig config, Path modelDir) throws IOException {
        if (config.pixelCodec()) return new PixelPatchCodec(config.genImageSize(), config.latentPatch());
        Path folder = Path.of(config.dcAeFolder());
        if (!folder.isAbsolute() && modelDir != null) folder = modelDir.resolve(folder);
        try {
            return DcAeCodec.load(folder, config.genImageSize());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new java.nio.file.NoSuchFileException(e.getFile(), null, "the model's codec \"" + config.codec() + "\": " + e.getReason());
        }
    }

    private static LatentCodec codecOrThrow(LatteConfig config) {
        try {
            return codecFor(config, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static LatteModel create(LatteConfig config, long seed) {
        return new LatteModel(config, LatteWeights.init(config, seed));
    }

    /** A fresh model whose relative DC-AE folder is read from {@code modelDir} (where the model will be saved). */
    public static LatteModel create(LatteConfig config, long seed, Path modelDir) throws IOException {
        return new LatteModel(config, LatteWeights.init(config, seed), codecFor(config, modelDir));
    }

    public LatteConfig config() { return config; }
    public ParamStore params() { return params; }
    public VisionLanguageModel vlm() { return vlm; }
    public List<ExpertGroup> groups() { return groups; }
    public TimestepPartition partition() { return partition; }
    public LatentCodec codec() { return codec; }

    /** Frees the weights, the codec's and every graph's plans now ({@link ParamStore#close}); not used afterwards. */
    public void close() {
        params.close();
        codec.close();
    }

    /** Transformer-layer evaluations made by generation groups so far (counted from the ops that ran). */
    public LayerEvalCounter samplingCounter() { return sampling; }

    /** Parameters one sampling step reads: one group's layers plus its head and the timestep embedder. */
    public long activeParamsPerStep() {
        return params.count(n -> n.startsWith("gen.time_embed.") || n.startsWith("gen.groups.0.") || ownedByGroupLayers(n, 0));
    }

    private boolean ownedByGroupLayers(String name, int group) {
        for (int l = group * config.layersPerGroup(); l < (group + 1) * config.layersPerGroup(); l++) {
            if (name.startsWith("gen.layers." + l + ".")) return true;
            if (config.variant() == Variant.BLEND && name.startsWith("model.layers." + l + ".self_attn.")) return true;
        }
        return false;
    }
}
