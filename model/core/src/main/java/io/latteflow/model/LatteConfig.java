package io.latteflow.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Every size and switch of a LaTtE-Flow model; saved as {@code config.json} in a checkpoint.
 * L = {@code numLayers}, K = {@code groups}, M = L / K.
 *
 * <pre>{@code
 * LatteConfig cfg = LatteConfig.tiny().withGroups(1).withResidualAttention(false); // Vanilla twin
 * LatteConfig deeper = LatteConfig.tiny().toBuilder().numLayers(8).groups(4).build();
 * }</pre>
 *
 * @param variant            Couple or Blend
 * @param vocabSize          text vocabulary including special tokens
 * @param hiddenSize         d
 * @param numLayers          L
 * @param numHeads           H (query heads)
 * @param numKvHeads         H_kv (grouped-query attention)
 * @param intermediateSize   SwiGLU width
 * @param ropeTheta          rotary base of the text decoder
 * @param rmsNormEps         RMSNorm epsilon
 * @param maxContextTokens   longest prompt (caption or question with its image) the model accepts
 * @param visionDepth        ViT blocks
 * @param visionHidden       ViT width
 * @param visionHeads        ViT heads
 * @param visionMlpRatio     ViT MLP width / ViT width
 * @param patchSize          ViT patch side in pixels
 * @param temporalPatchSize  frames per ViT patch (Qwen2-VL: 2; a still image is repeated)
 * @param spatialMergeSize   patch merger window side (2 = 2x2)
 * @param imageSize          side of the square image the VLM reads
 * @param groups             K timestep-expert groups
 * @param residualAttention  timestep-conditioned residual attention on/off (eq. 3)
 * @param overlap            training-interval overlap in tau steps (of 1000)
 * @param genImageSize       side of the generated square image
 * @param latentPatch        pixel patch side of the pixel codec
 * @param latentChannels     latent channels (3 for the pixel codec)
 * @param timeEmbedDim       sinusoidal timestep features
 * @param defaultSteps       Euler steps when a request does not say
 * @param defaultCfg         guidance scale when a request does not say
 * @param condDropout        share of training samples whose caption is replaced by the empty one
 * @param codec              the latent codec: {@code pixel} (the default, also when absent: pixels in p x p patches,
 *                           {@code latentChannels} * p * p values a token) or {@code dc-ae:FOLDER}, a DC-AE folder in
 *                           diffusers' or efficientvit's layout (relative: to the model directory), one token per latent
 *                           cell ({@code latentPatch} = its spatial factor, {@code latentChannels} = its latent channels)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LatteConfig(
        Variant variant,
        int vocabSize, int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
        double ropeTheta, double rmsNormEps, int maxContextTokens,
        int visionDepth, int visionHidden, int visionHeads, int visionMlpRatio,
        int patchSize, int temporalPatchSize, int spatialMergeSize, int imageSize,
        int groups, boolean residualAttention, int overlap,
        int genImageSize, int latentPatch, int latentChannels, int timeEmbedDim,
        int defaultSteps, double defaultCfg, double condDropout, String codec) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * Upper bounds of the sizes, far above any real model (the paper's: 151936 tokens, d = 1536, 28 + 32 layers), so
     * that every size derived from them (head dims, patch and token counts, weight shapes) is computed without
     * overflow, and a {@code config.json} cannot make loading list billions of weights before the first one is
     * compared with the checkpoint (issue 19: the config readers' fuzz tests build that list from every config they
     * accept).
     */
    public static final int MAX_VOCAB = 1 << 24, MAX_WIDTH = 1 << 16, MAX_LAYERS = 1024, MAX_IMAGE_SIDE = 8192,
            MAX_PATCH = 256, MAX_MERGE_OR_FRAMES = 16, MAX_LATENT = 64, MAX_MLP_RATIO = 64, MAX_CONTEXT = 1 << 24,
            MAX_STEPS = 1000,
            // DC-AE's published codecs have up to 512 latent channels (f128c512), more than a pixel patch's 64
            MAX_LATENT_CHANNELS = 1024;

    public LatteConfig {
        if (codec == null || codec.isBlank()) codec = PIXEL_CODEC;                 // checkpoints from before issue 20
        require(codec.equals(PIXEL_CODEC) || (codec.startsWith(DC_AE_PREFIX) && !codec.substring(DC_AE_PREFIX.length()).isBlank()),
                "codec must be \"pixel\" or \"dc-ae:FOLDER\", got \"" + codec + "\"");
        require(variant != null, "variant must be COUPLE or BLEND");
        require(vocabSize > 0 && hiddenSize > 0 && numLayers > 0 && intermediateSize > 0, "sizes must be positive");
        inRange("vocabSize", vocabSize, MAX_VOCAB);
        inRange("hiddenSize", hiddenSize, MAX_WIDTH);
        inRange("intermediateSize", intermediateSize, MAX_WIDTH);
        inRange("numLayers", numLayers, MAX_LAYERS);
        require(numHeads > 0 && hiddenSize % numHeads == 0, "hiddenSize " + hiddenSize + " must be divisible by numHeads " + numHeads);
        require(numKvHeads > 0 && numHeads % numKvHeads == 0, "numHeads " + numHeads + " must be divisible by numKvHeads " + numKvHeads);
        require((hiddenSize / numHeads) % 4 == 0, "head dim " + hiddenSize / numHeads + " must be divisible by 4 (M-RoPE sections)");
        require(groups > 0 && numLayers % groups == 0, "numLayers " + numLayers + " must be divisible by groups " + groups);
        require(overlap >= 0 && overlap < 1000 / groups, "overlap " + overlap + " must be in [0, " + 1000 / groups + ")");
        require(Double.isFinite(ropeTheta) && ropeTheta > 0, "ropeTheta must be a finite number > 0, got " + ropeTheta);
        require(Double.isFinite(rmsNormEps) && rmsNormEps >= 0, "rmsNormEps must be a finite number >= 0, got " + rmsNormEps);
        inRange("maxContextTokens", maxContextTokens, MAX_CONTEXT);
        inRange("visionDepth", visionDepth, MAX_LAYERS);
        inRange("visionHidden", visionHidden, MAX_WIDTH);
        inRange("visionHeads", visionHeads, visionHidden);
        inRange("visionMlpRatio", visionMlpRatio, MAX_MLP_RATIO);
        require(visionHidden % visionHeads == 0 && (visionHidden / visionHeads) % 4 == 0, "vision head dim must be divisible by 4");
        inRange("patchSize", patchSize, MAX_PATCH);
        inRange("temporalPatchSize", temporalPatchSize, MAX_MERGE_OR_FRAMES);
        inRange("spatialMergeSize", spatialMergeSize, MAX_MERGE_OR_FRAMES);
        inRange("imageSize", imageSize, MAX_IMAGE_SIDE);
        require(imageSize % (patchSize * spatialMergeSize) == 0, "imageSize " + imageSize + " must be divisible by patchSize*spatialMergeSize");
        inRange("genImageSize", genImageSize, MAX_IMAGE_SIDE);
        inRange("latentPatch", latentPatch, MAX_LATENT);
        require(genImageSize % latentPatch == 0, "genImageSize " + genImageSize + " must be divisible by latentPatch " + latentPatch);
        inRange("latentChannels", latentChannels, MAX_LATENT_CHANNELS);
        inRange("timeEmbedDim", timeEmbedDim, MAX_WIDTH);
        inRange("defaultSteps", defaultSteps, MAX_STEPS);
        require(Double.isFinite(defaultCfg) && defaultCfg >= 0, "defaultCfg must be a finite number >= 0, got " + defaultCfg);
        int grid = imageSize / patchSize / spatialMergeSize;
        require(maxContextTokens > grid * grid + 4, "maxContextTokens " + maxContextTokens + " leaves no room for a question after " + grid * grid + " image tokens");
        require(condDropout >= 0 && condDropout < 1, "condDropout must be in [0, 1)");
    }

    private static void inRange(String name, int value, int max) {
        require(value >= 1 && value <= max, name + " must be from 1 to " + max + ", got " + value);
    }

    /** The pixel patch codec's name, and the prefix of a DC-AE codec's folder (issue 20). */
    public static final String PIXEL_CODEC = "pixel", DC_AE_PREFIX = "dc-ae:";

    /** A configuration with the pixel codec (every preset and checkpoint made before codecs could be named). */
    public LatteConfig(Variant variant, int vocabSize, int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
                       double ropeTheta, double rmsNormEps, int maxContextTokens, int visionDepth, int visionHidden, int visionHeads,
                       int visionMlpRatio, int patchSize, int temporalPatchSize, int spatialMergeSize, int imageSize, int groups,
                       boolean residualAttention, int overlap, int genImageSize, int latentPatch, int latentChannels, int timeEmbedDim,
                       int defaultSteps, double defaultCfg, double condDropout) {
        this(variant, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, ropeTheta, rmsNormEps, maxContextTokens,
                visionDepth, visionHidden, visionHeads, visionMlpRatio, patchSize, temporalPatchSize, spatialMergeSize, imageSize, groups,
                residualAttention, overlap, genImageSize, latentPatch, latentChannels, timeEmbedDim, defaultSteps, defaultCfg, condDropout,
                PIXEL_CODEC);
    }

    /** Whether the latent codec is the pixel patch codec. */
    @JsonIgnore public boolean pixelCodec() { return codec.equals(PIXEL_CODEC); }

    /** The DC-AE folder the config names, as written (relative: to the model directory); null for the pixel codec. */
    @JsonIgnore public String dcAeFolder() { return pixelCodec() ? null : codec.substring(DC_AE_PREFIX.length()); }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("Invalid LatteConfig: " + message);
    }

    /** A few-thousand-parameter model for unit tests. */
    public static LatteConfig tiny() {
        return new LatteConfig(Variant.COUPLE, 64, 32, 4, 4, 2, 64, 10000, 1e-6, 48,
                1, 32, 2, 2, 4, 2, 2, 16, 2, true, 100, 8, 2, 3, 64, 8, 3.0, 0.1);
    }

    /**
     * The size trained on a CPU for the shipped Fashion-MNIST model: L = 8, d = 128, 4 heads, K = 4,
     * 28x28 images as 49 latent tokens (about 4 M parameters, 8 MB in F16).
     */
    public static LatteConfig small() {
        return new LatteConfig(Variant.COUPLE, 512, 128, 8, 4, 2, 384, 10000, 1e-6, 64,
                2, 64, 2, 2, 4, 2, 2, 32, 4, true, 100, 28, 4, 3, 128, 20, 3.0, 0.1);
    }

    /** The benchmark size: L = 8, d = 256, 4 heads, K = 4, 32x32 images as 64 latent tokens. */
    public static LatteConfig bench() {
        return new LatteConfig(Variant.COUPLE, 512, 256, 8, 4, 2, 768, 10000, 1e-6, 64,
                2, 128, 4, 2, 4, 2, 2, 32, 4, true, 100, 32, 4, 3, 256, 20, 5.0, 0.1);
    }

    /**
     * The paper's scale: Qwen2-VL-2B backbone, K = 4, M = 7, in the latent space of DC-AE f32c32 (256x256 images as 64
     * tokens of 32 channels), read from the folder {@code dc-ae-f32c32-in-1.0-diffusers} (the Hugging Face download of
     * {@code mit-han-lab/dc-ae-f32c32-in-1.0-diffusers}; relative to the model directory, or the working directory for
     * a model made from the preset). To start from the real Qwen2-VL-2B-Instruct weights, load its folder or use
     * {@code latte init-couple}.
     */
    public static LatteConfig paper() {
        return new LatteConfig(Variant.COUPLE, 151936, 1536, 28, 12, 2, 8960, 1e6, 1e-6, 4096,
                32, 1280, 16, 4, 14, 2, 2, 448, 4, true, 100, 256, 32, 32, 256, 40, 5.0, 0.1, DC_AE_PREFIX + "dc-ae-f32c32-in-1.0-diffusers");
    }

    public static LatteConfig preset(String name) {
        return switch (name) {
            case "tiny" -> tiny();
            case "small" -> small();
            case "bench" -> bench();
            case "paper" -> paper();
            default -> throw new IllegalArgumentException("Unknown preset '" + name + "' (tiny, small, bench, paper)");
        };
    }

    @JsonIgnore public int headDim() { return hiddenSize / numHeads; }
    @JsonIgnore public int layersPerGroup() { return numLayers / groups; }
    @JsonIgnore public int visionHeadDim() { return visionHidden / visionHeads; }
    @JsonIgnore public int visionGrid() { return imageSize / patchSize; }
    @JsonIgnore public int visionPatches() { return visionGrid() * visionGrid(); }
    @JsonIgnore public int imageTokens() { return visionPatches() / (spatialMergeSize * spatialMergeSize); }
    @JsonIgnore public int latentGrid() { return genImageSize / latentPatch; }
    @JsonIgnore public int latentTokens() { return latentGrid() * latentGrid(); }
    /** Values per latent token: a pixel patch's (channels * p * p), or one DC-AE latent cell's channels. */
    @JsonIgnore public int latentDim() { return pixelCodec() ? latentChannels * latentPatch * latentPatch : latentChannels; }
    /** M-RoPE (t, h, w) sections of the rotary half, Qwen2-VL's [16, 24, 24] scaled to this head size. */
    @JsonIgnore public int[] mropeSection() {
        int half = headDim() / 2, t = half / 4, h = (half - t) / 2;
        return new int[]{t, h, half - t - h};
    }

    public LatteConfig withVariant(Variant v) { return toBuilder().variant(v).build(); }
    public LatteConfig withGroups(int k) { return toBuilder().overlap(Math.min(overlap, 1000 / k - 1)).groups(k).build(); }
    public LatteConfig withResidualAttention(boolean on) { return toBuilder().residualAttention(on).build(); }
    public LatteConfig withVocabSize(int v) { return toBuilder().vocabSize(v).build(); }

    /**
     * This config drawing {@code genImageSize} images through the DC-AE folder {@code folder} (as it will be named in
     * config.json, e.g. {@code codec}, relative to the model directory) of architecture {@code dcAe}: one token per
     * latent cell.
     */
    public LatteConfig withDcAe(String folder, io.latteflow.model.latent.DcAeConfig dcAe, int genImageSize) {
        return toBuilder().codec(DC_AE_PREFIX + folder).genImageSize(genImageSize).latentPatch(dcAe.spatialFactor())
                .latentChannels(dcAe.latentChannels()).build();
    }
    /** The paper's baseline of this model: K = 1 and no residual attention ("Vanilla Couple/Blend"). */
    public LatteConfig vanilla() { return withGroups(1).withResidualAttention(false); }

    /** A builder that starts from this configuration; {@link Builder#build()} validates the result once. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Typed changes to a configuration (issue 17: this replaces {@code with(String, Object)}), checked together when
     * built, so a change that is only valid with another (e.g. {@code genImageSize} and {@code latentPatch}) can be
     * made in one step.
     *
     * <pre>{@code
     * LatteConfig c = LatteConfig.tiny().toBuilder().numLayers(8).groups(4).build();
     * }</pre>
     */
    public static final class Builder {
        private Variant variant;
        private int vocabSize;
        private int hiddenSize;
        private int numLayers;
        private int numHeads;
        private int numKvHeads;
        private int intermediateSize;
        private double ropeTheta;
        private double rmsNormEps;
        private int maxContextTokens;
        private int visionDepth;
        private int visionHidden;
        private int visionHeads;
        private int visionMlpRatio;
        private int patchSize;
        private int temporalPatchSize;
        private int spatialMergeSize;
        private int imageSize;
        private int groups;
        private boolean residualAttention;
        private int overlap;
        private int genImageSize;
        private int latentPatch;
        private int latentChannels;
        private int timeEmbedDim;
        private int defaultSteps;
        private double defaultCfg;
        private double condDropout;
        private String codec;

        private Builder(LatteConfig c) {
            variant = c.variant;
            vocabSize = c.vocabSize;
            hiddenSize = c.hiddenSize;
            numLayers = c.numLayers;
            numHeads = c.numHeads;
            numKvHeads = c.numKvHeads;
            intermediateSize = c.intermediateSize;
            ropeTheta = c.ropeTheta;
            rmsNormEps = c.rmsNormEps;
            maxContextTokens = c.maxContextTokens;
            visionDepth = c.visionDepth;
            visionHidden = c.visionHidden;
            visionHeads = c.visionHeads;
            visionMlpRatio = c.visionMlpRatio;
            patchSize = c.patchSize;
            temporalPatchSize = c.temporalPatchSize;
            spatialMergeSize = c.spatialMergeSize;
            imageSize = c.imageSize;
            groups = c.groups;
            residualAttention = c.residualAttention;
            overlap = c.overlap;
            genImageSize = c.genImageSize;
            latentPatch = c.latentPatch;
            latentChannels = c.latentChannels;
            timeEmbedDim = c.timeEmbedDim;
            defaultSteps = c.defaultSteps;
            defaultCfg = c.defaultCfg;
            condDropout = c.condDropout;
            codec = c.codec;
        }

        public Builder variant(Variant value) {
            variant = value;
            return this;
        }

        public Builder vocabSize(int value) {
            vocabSize = value;
            return this;
        }

        public Builder hiddenSize(int value) {
            hiddenSize = value;
            return this;
        }

        public Builder numLayers(int value) {
            numLayers = value;
            return this;
        }

        public Builder numHeads(int value) {
            numHeads = value;
            return this;
        }

        public Builder numKvHeads(int value) {
            numKvHeads = value;
            return this;
        }

        public Builder intermediateSize(int value) {
            intermediateSize = value;
            return this;
        }

        public Builder ropeTheta(double value) {
            ropeTheta = value;
            return this;
        }

        public Builder rmsNormEps(double value) {
            rmsNormEps = value;
            return this;
        }

        public Builder maxContextTokens(int value) {
            maxContextTokens = value;
            return this;
        }

        public Builder visionDepth(int value) {
            visionDepth = value;
            return this;
        }

        public Builder visionHidden(int value) {
            visionHidden = value;
            return this;
        }

        public Builder visionHeads(int value) {
            visionHeads = value;
            return this;
        }

        public Builder visionMlpRatio(int value) {
            visionMlpRatio = value;
            return this;
        }

        public Builder patchSize(int value) {
            patchSize = value;
            return this;
        }

        public Builder temporalPatchSize(int value) {
            temporalPatchSize = value;
            return this;
        }

        public Builder spatialMergeSize(int value) {
            spatialMergeSize = value;
            return this;
        }

        public Builder imageSize(int value) {
            imageSize = value;
            return this;
        }

        public Builder groups(int value) {
            groups = value;
            return this;
        }

        public Builder residualAttention(boolean value) {
            residualAttention = value;
            return this;
        }

        public Builder overlap(int value) {
            overlap = value;
            return this;
        }

        public Builder genImageSize(int value) {
            genImageSize = value;
            return this;
        }

        public Builder latentPatch(int value) {
            latentPatch = value;
            return this;
        }

        public Builder latentChannels(int value) {
            latentChannels = value;
            return this;
        }

        public Builder timeEmbedDim(int value) {
            timeEmbedDim = value;
            return this;
        }

        public Builder defaultSteps(int value) {
            defaultSteps = value;
            return this;
        }

        public Builder defaultCfg(double value) {
            defaultCfg = value;
            return this;
        }

        public Builder condDropout(double value) {
            condDropout = value;
            return this;
        }

        /** {@code pixel} or {@code dc-ae:FOLDER} (see the record's {@code codec}). */
        public Builder codec(String value) {
            codec = value;
            return this;
        }

        /** @throws IllegalArgumentException naming what is invalid */
        public LatteConfig build() {
            return new LatteConfig(variant, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, ropeTheta, rmsNormEps, maxContextTokens, visionDepth, visionHidden, visionHeads, visionMlpRatio, patchSize, temporalPatchSize, spatialMergeSize, imageSize, groups, residualAttention, overlap, genImageSize, latentPatch, latentChannels, timeEmbedDim, defaultSteps, defaultCfg, condDropout, codec);
        }
    }

    public void write(Path file) throws IOException {
        JSON.writeValue(file.toFile(), this);
    }

    public static LatteConfig read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("Missing model config " + file);
        LatteConfig config;
        try {
            config = JSON.readValue(file.toFile(), LatteConfig.class);
        } catch (IllegalArgumentException e) {
            throw new IOException("Bad model config " + file + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IOException("Unreadable model config " + file + ": " + e.getMessage(), e);
        }
        // The JSON literal null reads as no config at all (issue 19, found by fuzzing: a file "null").
        if (config == null) throw new IOException("Bad model config " + file + ": it is JSON null, not an object");
        return config;
    }
}
