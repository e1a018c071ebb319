package io.latteflow.model.latent;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The architecture of a DC-AE (Deep Compression Autoencoder), as diffusers' {@code AutoencoderDC} configures it; read
 * from a diffusers {@code config.json} ({@link #fromDiffusers}) or from MIT Han Lab's efficientvit layout
 * ({@link #fromOriginal}: a preset name such as {@code dc-ae-f32c32-in-1.0}, or its {@code DCAEConfig} fields).
 *
 * <pre>{@code
 * DcAeConfig f32c32 = DcAeConfig.preset("dc-ae-f32c32-in-1.0");   // 256x256 -> 32 x 8 x 8, scaling factor 0.3189
 * }</pre>
 *
 * @param inChannels        image channels (3)
 * @param latentChannels    latent channels
 * @param attentionHeadDim  channels per head of the EfficientViT blocks' linear attention
 * @param encoder           encoder stages, shallow to deep
 * @param decoder           decoder stages, shallow to deep (run deep to shallow)
 * @param pixelUnshuffle    downsampling by a 3x3 conv then pixel-unshuffle (false: a stride-2 3x3 conv)
 * @param pixelShuffle      upsampling by a 3x3 conv then pixel-shuffle (false: nearest x2 then a 3x3 conv)
 * @param encoderOutShortcut the encoder's last conv adds the channel-averaged features
 * @param decoderInShortcut  the decoder's first conv adds the channel-repeated latents
 * @param decoderOutAct     activation between the decoder's output norm and output conv
 * @param scalingFactor     latents are multiplied by it after encoding and divided before decoding
 */
public record DcAeConfig(int inChannels, int latentChannels, int attentionHeadDim, List<Stage> encoder, List<Stage> decoder,
                         boolean pixelUnshuffle, boolean pixelShuffle, boolean encoderOutShortcut, boolean decoderInShortcut,
                         Act decoderOutAct, double scalingFactor) {

    public enum Block { RES, EVIT }

    public enum Norm { RMS, BATCH }

    public enum Act { RELU, SILU }

    /**
     * One stage: {@code depth} blocks of {@code width} channels; for EfficientViT blocks the kernel sizes of the
     * multi-scale q/k/v aggregation. {@code norm} and {@code act} are the ResBlocks' (and the attention's output norm);
     * diffusers fixes them to RMS norm and SiLU in the encoder, and the GLU MBConv always uses RMS norm and SiLU.
     */
    public record Stage(int width, int depth, Block block, List<Integer> scales, Norm norm, Act act) {
        public Stage {
            scales = List.copyOf(scales);
        }
    }

    /** Upper bounds far above the public models (2048 channels, 10 blocks, 8 stages), so sizes never overflow. */
    static final int MAX_CHANNELS = 1 << 14, MAX_DEPTH = 64, MAX_STAGES = 12, MAX_KERNEL = 15;

    public DcAeConfig {
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
        check(inChannels >= 1 && inChannels <= MAX_CHANNELS, "in_channels must be from 1 to " + MAX_CHANNELS + ", got " + inChannels);
        check(latentChannels >= 1 && latentChannels <= MAX_CHANNELS, "latent_channels must be from 1 to " + MAX_CHANNELS + ", got " + latentChannels);
        check(attentionHeadDim >= 1 && attentionHeadDim <= MAX_CHANNELS, "attention_head_dim must be from 1 to " + MAX_CHANNELS + ", got " + attentionHeadDim);
        check(Double.isFinite(scalingFactor) && scalingFactor > 0, "scaling_factor must be a finite number > 0, got " + scalingFactor);
        checkSide("encoder", encoder, attentionHeadDim);
        checkSide("decoder", decoder, attentionHeadDim);
        check(encoder.size() == decoder.size(), "encoder and decoder must have the same number of stages, got "
                + encoder.size() + " and " + decoder.size());
        // every channel count the shortcuts and (un)shuffles divide must divide evenly
        int enc = encoder.get(0).depth() > 0 ? encoder.get(0).width() : encoder.get(1).width();
        if (encoder.get(0).depth() == 0 && pixelUnshuffle) check(enc % 4 == 0, "encoder width " + enc + " after conv_in must be divisible by 4 (pixel-unshuffle)");
        for (int i = 0; i < encoder.size(); i++) {
            Stage s = encoder.get(i);
            if (s.depth() > 0) check(s.width() == enc, "encoder stage " + i + " receives " + enc + " channels but has width " + s.width()
                    + " (a stage without blocks must be the first one)");
            if (i < encoder.size() - 1 && s.depth() > 0) {
                int out = encoder.get(i + 1).width();
                if (pixelUnshuffle) check(out % 4 == 0, "encoder width " + out + " must be divisible by 4 (pixel-unshuffle)");
                check((s.width() * 4) % out == 0, "encoder downsample " + s.width() + " -> " + out + ": 4 x " + s.width() + " must be divisible by " + out + " (channel averaging)");
                enc = out;
            }
        }
        check(enc == encoder.get(encoder.size() - 1).width(), "encoder ends with " + enc + " channels, not its last width");
        if (encoderOutShortcut) check(enc % latentChannels == 0, "encoder width " + enc + " must be divisible by latent_channels " + latentChannels);
        int dec = decoder.get(decoder.size() - 1).width();
        if (decoderInShortcut) check(dec % latentChannels == 0, "decoder width " + dec + " must be divisible by latent_channels " + latentChannels);
        for (int i = decoder.size() - 1; i >= 0; i--) {
            Stage s = decoder.get(i);
            if (i < decoder.size() - 1 && s.depth() > 0) {
                check((s.width() * 4) % dec == 0, "decoder upsample " + dec + " -> " + s.width() + ": 4 x " + s.width() + " must be divisible by " + dec + " (channel repeat)");
                dec = s.width();
            }
            if (s.depth() > 0) check(s.width() == dec, "decoder stage " + i + " receives " + dec + " channels but has width " + s.width()
                    + " (a stage without blocks must be the first one)");
        }
        int last = decoder.get(0).depth() > 0 ? decoder.get(0).width() : decoder.get(1).width();
        check(dec == last, "decoder ends with " + dec + " channels, not " + last);
        check(downsamples(encoder) == downsamples(decoder), "encoder and decoder must scale by the same factor");
    }

    private static void checkSide(String side, List<Stage> stages, int headDim) {
        check(stages.size() >= 2 && stages.size() <= MAX_STAGES, side + " must have from 2 to " + MAX_STAGES + " stages, got " + stages.size());
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            check(s.width() >= 1 && s.width() <= MAX_CHANNELS, side + " stage " + i + " width must be from 1 to " + MAX_CHANNELS + ", got " + s.width());
            check(s.depth() >= 0 && s.depth() <= MAX_DEPTH, side + " stage " + i + " depth must be from 0 to " + MAX_DEPTH + ", got " + s.depth());
            check(s.depth() > 0 || i == 0, side + " stage " + i + " has no blocks; only the first stage may be empty");
            check(s.block() != Block.EVIT || s.width() >= headDim, side + " stage " + i + " width " + s.width()
                    + " is smaller than attention_head_dim " + headDim);
            for (int k : s.scales()) check(k >= 1 && k <= MAX_KERNEL && k % 2 == 1, side + " stage " + i + " multi-scale kernel must be odd, 1 to " + MAX_KERNEL + ", got " + k);
        }
        check(stages.get(0).depth() > 0 || stages.get(1).depth() > 0, side + ": the first two stages cannot both be empty");
    }

    private static int downsamples(List<Stage> stages) {
        int n = stages.get(0).depth() == 0 ? 1 : 0;
        for (int i = 0; i < stages.size() - 1; i++) if (stages.get(i).depth() > 0) n++;
        return n;
    }

    /** Pixels per latent cell along a side (32 for f32c32). */
    public int spatialFactor() {
        return 1 << downsamples(encoder);
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("Invalid DC-AE config: " + message);
    }

    // ---- diffusers' AutoencoderDC config.json ----

    /**
     * From diffusers' {@code config.json} ({@code AutoencoderDC}); missing keys take AutoencoderDC's defaults, string
     * values of the per-stage keys apply to every stage, as diffusers reads them.
     */
    public static DcAeConfig fromDiffusers(JsonNode c) {
        check(c != null && c.isObject(), "config.json must be a JSON object");
        String cls = text(c, "_class_name", "AutoencoderDC");
        check(cls.equals("AutoencoderDC"), "_class_name is " + cls + ", not AutoencoderDC");
        int in = integer(c, "in_channels", 3), latent = integer(c, "latent_channels", 32), dh = integer(c, "attention_head_dim", 32);
        List<Integer> encW = ints(c, "encoder_block_out_channels", List.of(128, 256, 512, 512, 1024, 1024));
        List<Integer> decW = ints(c, "decoder_block_out_channels", List.of(128, 256, 512, 512, 1024, 1024));
        List<Integer> encD = ints(c, "encoder_layers_per_block", List.of(2, 2, 2, 3, 3, 3));
        List<Integer> decD = ints(c, "decoder_layers_per_block", List.of(3, 3, 3, 3, 3, 3));
        int n = encW.size(), m = decW.size();
        check(encD.size() == n, "encoder_layers_per_block has " + encD.size() + " entries, encoder_block_out_channels " + n);
        check(decD.size() == m, "decoder_layers_per_block has " + decD.size() + " entries, decoder_block_out_channels " + m);
        List<String> encB = perStage(c, "encoder_block_types", "ResBlock", n), decB = perStage(c, "decoder_block_types", "ResBlock", m);
        List<List<Integer>> encS = scales(c, "encoder_qkv_multiscales", n), decS = scales(c, "decoder_qkv_multiscales", m);
        List<String> norms = perStage(c, "decoder_norm_types", "rms_norm", m), acts = perStage(c, "decoder_act_fns", "silu", m);
        List<Stage> enc = new ArrayList<>(), dec = new ArrayList<>();
        for (int i = 0; i < n; i++) enc.add(new Stage(encW.get(i), encD.get(i), diffusersBlock(encB.get(i)), encS.get(i), Norm.RMS, Act.SILU));
        for (int i = 0; i < m; i++) dec.add(new Stage(decW.get(i), decD.get(i), diffusersBlock(decB.get(i)), decS.get(i), diffusersNorm(norms.get(i)), act(acts.get(i))));
        return new DcAeConfig(in, latent, dh, enc, dec,
                text(c, "downsample_block_type", "pixel_unshuffle").equals("pixel_unshuffle"),
                !text(c, "upsample_block_type", "pixel_shuffle").equals("interpolate"),
                bool(c, "encoder_out_shortcut", true), bool(c, "decoder_in_shortcut", true),
                act(text(c, "decoder_conv_act_fn", "relu")), number(c, "scaling_factor", 1.0));
    }

    /**
     * This config as a diffusers {@code config.json} ({@code AutoencoderDC}), the inverse of {@link #fromDiffusers}:
     * what {@link DcAeCodec#save} writes beside the weights. The encoder's norms and activations are not written
     * (diffusers fixes them to RMS norm and SiLU), so a config whose encoder differs is refused.
     */
    public com.fasterxml.jackson.databind.node.ObjectNode toDiffusers() {
        for (Stage s : encoder) check(s.norm() == Norm.RMS && s.act() == Act.SILU, "diffusers' encoder has RMS norm and SiLU in every stage");
        var json = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        json.put("_class_name", "AutoencoderDC");
        json.put("attention_head_dim", attentionHeadDim);
        json.put("in_channels", inChannels);
        json.put("latent_channels", latentChannels);
        json.put("scaling_factor", scalingFactor);
        json.put("downsample_block_type", pixelUnshuffle ? "pixel_unshuffle" : "Conv");
        json.put("upsample_block_type", pixelShuffle ? "pixel_shuffle" : "interpolate");
        json.put("encoder_out_shortcut", encoderOutShortcut);
        json.put("decoder_in_shortcut", decoderInShortcut);
        json.put("decoder_conv_act_fn", decoderOutAct == Act.RELU ? "relu" : "silu");
        for (String side : List.of("encoder", "decoder")) {
            List<Stage> stages = side.equals("encoder") ? encoder : decoder;
            var widths = json.putArray(side + "_block_out_channels");
            var depths = json.putArray(side + "_layers_per_block");
            var types = json.putArray(side + "_block_types");
            var scales = json.putArray(side + "_qkv_multiscales");
            for (Stage s : stages) {
                widths.add(s.width());
                depths.add(s.depth());
                types.add(s.block() == Block.RES ? "ResBlock" : "EfficientViTBlock");
                var k = scales.addArray();
                s.scales().forEach(k::add);
            }
        }
        var norms = json.putArray("decoder_norm_types");
        var acts = json.putArray("decoder_act_fns");
        for (Stage s : decoder) {
            norms.add(s.norm() == Norm.RMS ? "rms_norm" : "batch_norm");
            acts.add(s.act() == Act.RELU ? "relu" : "silu");
        }
        return json;
    }

    /** The same architecture with another scaling factor (set after training from the latents' spread). */
    public DcAeConfig withScalingFactor(double factor) {
        return new DcAeConfig(inChannels, latentChannels, attentionHeadDim, encoder, decoder, pixelUnshuffle, pixelShuffle,
                encoderOutShortcut, decoderInShortcut, decoderOutAct, factor);
    }

    private static Block diffusersBlock(String s) {
        return switch (s) {
            case "ResBlock" -> Block.RES;
            case "EfficientViTBlock" -> Block.EVIT;
            default -> throw new IllegalArgumentException("Invalid DC-AE config: block type '" + s + "' (ResBlock or EfficientViTBlock)");
        };
    }

    private static Norm diffusersNorm(String s) {
        return switch (s) {
            case "rms_norm" -> Norm.RMS;
            case "batch_norm" -> Norm.BATCH;
            default -> throw new IllegalArgumentException("Invalid DC-AE config: norm type '" + s + "' (rms_norm or batch_norm)");
        };
    }

    private static Act act(String s) {
        return switch (s) {
            case "relu" -> Act.RELU;
            case "silu" -> Act.SILU;
            default -> throw new IllegalArgumentException("Invalid DC-AE config: activation '" + s + "' (relu or silu)");
        };
    }

    // ---- MIT Han Lab's efficientvit layout ----

    /**
     * Scaling factors of the published original checkpoints (their config.json names only the model; the factors
     * are the ones diffusers' conversion script sets for the same models).
     */
    private static final Map<String, Double> SCALING = Map.of(
            "dc-ae-f32c32-in-1.0", 0.3189, "dc-ae-f32c32-mix-1.0", 0.4552, "dc-ae-f32c32-sana-1.0", 0.41407,
            "dc-ae-f64c128-in-1.0", 0.2889, "dc-ae-f64c128-mix-1.0", 0.4538,
            "dc-ae-f128c512-in-1.0", 0.4883, "dc-ae-f128c512-mix-1.0", 0.3620);

    /** A published model by name, as efficientvit's presets ({@code dc_ae_f32c32} etc.) build it. */
    public static DcAeConfig preset(String name) {
        java.util.regex.Matcher small = java.util.regex.Pattern.compile("dc-ae-f8c(\\d{1,3})-small").matcher(name);
        if (small.matches()) return small(Integer.parseInt(small.group(1)));
        Double scaling = SCALING.get(name);
        if (scaling == null) throw new IllegalArgumentException("Unknown DC-AE model '" + name + "'; known: " + new java.util.TreeSet<>(SCALING.keySet()) + " and dc-ae-f8cN-small");
        if (name.equals("dc-ae-f32c32-sana-1.0")) {
            List<Integer> w = List.of(128, 256, 512, 512, 1024, 1024);
            return new DcAeConfig(3, 32, 32, uniform(w, List.of(2, 2, 2, 3, 3, 3), List.of(5), Norm.RMS, Act.SILU),
                    uniform(w, List.of(3, 3, 3, 3, 3, 3), List.of(5), Norm.RMS, Act.SILU), false, false, true, true, Act.RELU, scaling);
        }
        int stages = name.startsWith("dc-ae-f32c32") ? 6 : name.startsWith("dc-ae-f64c128") ? 7 : 8;
        int latent = stages == 6 ? 32 : stages == 7 ? 128 : 512;
        List<Integer> widths = List.of(128, 256, 512, 512, 1024, 1024, 2048, 2048).subList(0, stages);
        List<Stage> enc = new ArrayList<>(), dec = new ArrayList<>();
        int[] encDepth = {0, 4, 8, 2, 2, 2, 2, 2}, decDepth = {0, 5, 10, 2, 2, 2, 2, 2};
        for (int i = 0; i < stages; i++) {
            boolean res = i < 3;
            enc.add(new Stage(widths.get(i), encDepth[i], res ? Block.RES : Block.EVIT, List.of(), Norm.RMS, Act.SILU));
            dec.add(new Stage(widths.get(i), decDepth[i], res ? Block.RES : Block.EVIT, List.of(), res ? Norm.BATCH : Norm.RMS, res ? Act.RELU : Act.SILU));
        }
        return new DcAeConfig(3, latent, 32, enc, dec, true, true, true, true, Act.RELU, scaling);
    }

    /**
     * The small DC-AE trained here for 64x64 emoji ({@code dc-ae-f8cN-small}, issue 20): f8, widths 32, 64, 128, 128,
     * a ResBlock in each of the first three stages and an EfficientViT block in the last, the decoder with one more
     * ResBlock at the 16x16 stage; RMS norm and SiLU throughout (nothing a batch's statistics must be kept for), about
     * 2.7 M weights. Scaling factor 1 until training sets it.
     */
    public static DcAeConfig small(int latentChannels) {
        check(latentChannels >= 1 && 128 % latentChannels == 0, "the small DC-AE's latent channels must divide 128, got " + latentChannels);
        List<Integer> w = List.of(32, 64, 128, 128);
        List<Stage> enc = new ArrayList<>(), dec = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Block b = i < 3 ? Block.RES : Block.EVIT;
            enc.add(new Stage(w.get(i), 1, b, List.of(), Norm.RMS, Act.SILU));
            dec.add(new Stage(w.get(i), i == 2 ? 2 : 1, b, List.of(), Norm.RMS, Act.SILU));
        }
        return new DcAeConfig(3, latentChannels, 32, enc, dec, true, true, true, true, Act.RELU, 1.0);
    }

    private static List<Stage> uniform(List<Integer> widths, List<Integer> depths, List<Integer> evitScales, Norm norm, Act act) {
        List<Stage> out = new ArrayList<>();
        for (int i = 0; i < widths.size(); i++) {
            boolean res = i < 3;
            out.add(new Stage(widths.get(i), depths.get(i), res ? Block.RES : Block.EVIT, res ? List.of() : evitScales, norm, act));
        }
        return out;
    }

    /**
     * From an efficientvit-layout {@code config.json}: {@code {"model_name": "dc-ae-f32c32-in-1.0"}} as published (a
     * preset), or the fields of efficientvit's {@code DCAEConfig} ({@code in_channels}, {@code latent_channels},
     * {@code scaling_factor}, {@code encoder}/{@code decoder} with {@code width_list}, {@code depth_list},
     * {@code block_type} ResBlock / EViT_GLU / EViTS5_GLU, {@code norm} bn2d / trms2d, {@code act} relu / silu, ...),
     * which is what bench/dcae_ref.py writes for models that are no preset.
     */
    public static DcAeConfig fromOriginal(JsonNode c) {
        check(c != null && c.isObject(), "config.json must be a JSON object");
        if (!c.has("encoder") && !c.has("decoder")) {
            check(c.path("model_name").isTextual(), "an efficientvit config.json needs model_name (a published model) or encoder and decoder");
            return preset(c.get("model_name").textValue());
        }
        check(c.path("encoder").isObject() && c.path("decoder").isObject(), "encoder and decoder must both be objects");
        check(!c.path("use_quant_conv").asBoolean(false), "use_quant_conv is not supported");
        JsonNode e = c.get("encoder"), d = c.get("decoder");
        List<Integer> encW = ints(e, "width_list", List.of(128, 256, 512, 512, 1024, 1024)), decW = ints(d, "width_list", List.of(128, 256, 512, 512, 1024, 1024));
        List<Integer> encD = ints(e, "depth_list", List.of(2, 2, 2, 2, 2, 2)), decD = ints(d, "depth_list", List.of(2, 2, 2, 2, 2, 2));
        check(encD.size() == encW.size() && decD.size() == decW.size(), "depth_list and width_list must have the same length");
        List<String> encB = perStage(e, "block_type", "ResBlock", encW.size()), decB = perStage(d, "block_type", "ResBlock", decW.size());
        List<String> encN = perStage(e, "norm", "trms2d", encW.size()), decN = perStage(d, "norm", "trms2d", decW.size());
        List<String> encA = perStage(e, "act", "silu", encW.size()), decA = perStage(d, "act", "silu", decW.size());
        check(e.path("double_latent").asBoolean(false) == false, "encoder.double_latent is not supported");
        check(e.path("out_norm").isMissingNode() || e.path("out_norm").isNull(), "encoder.out_norm is not supported");
        check(e.path("out_act").isMissingNode() || e.path("out_act").isNull(), "encoder.out_act is not supported");
        check(text(d, "out_norm", "trms2d").equals("trms2d"), "decoder.out_norm must be trms2d");
        check(e.path("downsample_match_channel").asBoolean(true) && d.path("upsample_match_channel").asBoolean(true), "*_match_channel must be true");
        check(text(e, "downsample_shortcut", "averaging").equals("averaging"), "encoder.downsample_shortcut must be averaging");
        check(text(d, "upsample_shortcut", "duplicating").equals("duplicating"), "decoder.upsample_shortcut must be duplicating");
        String down = text(e, "downsample_block_type", "ConvPixelUnshuffle"), up = text(d, "upsample_block_type", "ConvPixelShuffle");
        check(down.equals("ConvPixelUnshuffle") || down.equals("Conv"), "encoder.downsample_block_type must be ConvPixelUnshuffle or Conv, got " + down);
        check(up.equals("ConvPixelShuffle") || up.equals("InterpolateConv"), "decoder.upsample_block_type must be ConvPixelShuffle or InterpolateConv, got " + up);
        String outShortcut = text(e, "out_shortcut", "averaging"), inShortcut = text(d, "in_shortcut", "duplicating");
        List<Stage> enc = new ArrayList<>(), dec = new ArrayList<>();
        for (int i = 0; i < encW.size(); i++) enc.add(originalStage("encoder", i, encW.get(i), encD.get(i), encB.get(i), encN.get(i), encA.get(i)));
        for (int i = 0; i < decW.size(); i++) dec.add(originalStage("decoder", i, decW.get(i), decD.get(i), decB.get(i), decN.get(i), decA.get(i)));
        String name = text(c, "model_name", "");
        double scaling = c.has("scaling_factor") && !c.get("scaling_factor").isNull() ? number(c, "scaling_factor", 1.0) : SCALING.getOrDefault(name, 1.0);
        // efficientvit fixes the head dim at 32 (EfficientViTBlock's dim); attention_head_dim is our extension for small models
        return new DcAeConfig(integer(c, "in_channels", 3), integer(c, "latent_channels", 32), integer(c, "attention_head_dim", 32), enc, dec,
                down.equals("ConvPixelUnshuffle"), up.equals("ConvPixelShuffle"), outShortcut.equals("averaging"),
                inShortcut.equals("duplicating"), act(text(d, "out_act", "relu")), scaling);
    }

    private static Stage originalStage(String side, int i, int width, int depth, String block, String norm, String act) {
        Norm n = switch (norm) {
            case "trms2d" -> Norm.RMS;
            case "bn2d" -> Norm.BATCH;
            default -> throw new IllegalArgumentException("Invalid DC-AE config: " + side + " stage " + i + " norm '" + norm + "' (trms2d or bn2d)");
        };
        Act a = act(act);
        return switch (block) {
            case "ResBlock" -> new Stage(width, depth, Block.RES, List.of(), n, a);
            case "EViT_GLU", "EViTS5_GLU" -> {
                // efficientvit applies the stage's norm and act inside the GLU MBConv too; diffusers fixes them there to
                // RMS norm and SiLU, which is what every published model uses, and all this codec implements
                check(n == Norm.RMS && a == Act.SILU, side + " stage " + i + ": EfficientViT stages must use trms2d and silu, got " + norm + ", " + act);
                yield new Stage(width, depth, Block.EVIT, block.equals("EViTS5_GLU") ? List.of(5) : List.of(), n, a);
            }
            default -> throw new IllegalArgumentException("Invalid DC-AE config: " + side + " stage " + i + " block type '" + block + "' (ResBlock, EViT_GLU or EViTS5_GLU)");
        };
    }

    // ---- JSON helpers: wrong types are errors, not defaults ----

    private static String text(JsonNode c, String key, String fallback) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return fallback;
        check(v.isTextual(), key + " must be a string, got " + v);
        return v.textValue();
    }

    private static int integer(JsonNode c, String key, int fallback) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return fallback;
        check(v.isIntegralNumber() && v.canConvertToInt(), key + " must be an integer, got " + v);
        return v.intValue();
    }

    private static double number(JsonNode c, String key, double fallback) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return fallback;
        check(v.isNumber(), key + " must be a number, got " + v);
        return v.doubleValue();
    }

    private static boolean bool(JsonNode c, String key, boolean fallback) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return fallback;
        check(v.isBoolean(), key + " must be true or false, got " + v);
        return v.booleanValue();
    }

    private static List<Integer> ints(JsonNode c, String key, List<Integer> fallback) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return fallback;
        check(v.isArray() && v.size() <= MAX_STAGES, key + " must be a list of at most " + MAX_STAGES + " integers, got " + v);
        List<Integer> out = new ArrayList<>();
        for (JsonNode x : v) {
            check(x.isIntegralNumber() && x.canConvertToInt(), key + " must hold integers, got " + x);
            out.add(x.intValue());
        }
        return out;
    }

    /** A string for every stage, or a list with one per stage. */
    private static List<String> perStage(JsonNode c, String key, String fallback, int stages) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull() || v.isTextual()) return java.util.Collections.nCopies(stages, v == null || v.isNull() ? fallback : v.textValue());
        check(v.isArray() && v.size() == stages, key + " must be a string or a list of " + stages + " strings, got " + v);
        List<String> out = new ArrayList<>();
        for (JsonNode x : v) {
            check(x.isTextual(), key + " must hold strings, got " + x);
            out.add(x.textValue());
        }
        return out;
    }

    private static List<List<Integer>> scales(JsonNode c, String key, int stages) {
        JsonNode v = c.get(key);
        List<List<Integer>> out = new ArrayList<>();
        if (v == null || v.isNull()) {   // AutoencoderDC's default: ((), (), (), (5,), (5,), (5,))
            for (int i = 0; i < stages; i++) out.add(i < 3 ? List.of() : List.of(5));
            return out;
        }
        check(v.isArray() && v.size() == stages, key + " must be a list of " + stages + " lists, got " + v);
        for (JsonNode s : v) {
            check(s.isArray() && s.size() <= 4, key + " must hold lists of at most 4 kernel sizes, got " + s);
            List<Integer> k = new ArrayList<>();
            for (JsonNode x : s) {
                check(x.isIntegralNumber() && x.canConvertToInt(), key + " must hold integers, got " + x);
                k.add(x.intValue());
            }
            out.add(k);
        }
        return out;
    }
}
