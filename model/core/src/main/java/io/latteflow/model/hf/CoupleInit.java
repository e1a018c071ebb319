package io.latteflow.model.hf;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteWeights;
import io.latteflow.model.Variant;
import io.latteflow.model.io.Checkpoint;
import io.latteflow.model.io.DType;
import io.latteflow.model.nn.ParamStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Makes a LaTtE-Flow model from a pretrained Qwen2-VL folder, as the paper does: the VLM's weights kept as they
 * are, every generation layer a copy of the VLM layer it sits beside (a Couple copies the whole layer; a Blend its
 * norms and MLP), the generation-only weights (timestep embedder, adaLN modulations, residual-attention gates,
 * group input projections and heads) initialised as a new model's, so the first step of training starts from a
 * generation path that computes what the VLM computes. The folder's chat files are kept, so the result answers
 * questions exactly as the VLM did.
 *
 * <pre>{@code
 * CoupleInit.write(Path.of("Qwen2-VL-2B-Instruct"), Path.of("latte-2b"), new CoupleInit.Settings(Variant.COUPLE, 4, true, 256, 32, 0), DType.BF16);
 * }</pre>
 *
 * @param groups        K expert groups (must divide the VLM's layer count)
 * @param genImageSize  side of the images the model will draw
 * @param latentPatch   pixel patch side of the pixel codec (genImageSize / latentPatch squared latent tokens)
 */
public final class CoupleInit {
    /** What a chat model reads besides weights and tokenizer; copied so that the new model answers as the VLM. */
    public static final List<String> CHAT_FILES = List.of("chat_template.json", "chat_template.jinja", "tokenizer_config.json",
            "preprocessor_config.json", "generation_config.json");

    private CoupleInit() {
    }

    /**
     * @param codec a DC-AE folder to draw in (copied into the model as {@value #CODEC_FOLDER}; {@code latentPatch} is
     *              then its spatial factor), or null for pixel patches of {@code latentPatch}
     */
    public record Settings(Variant variant, int groups, boolean residualAttention, int genImageSize, int latentPatch, long seed, Path codec) {
        public Settings(Variant variant, int groups, boolean residualAttention, int genImageSize, int latentPatch, long seed) {
            this(variant, groups, residualAttention, genImageSize, latentPatch, seed, null);
        }
    }

    /** Where a model keeps the DC-AE it draws in, relative to its folder ({@code "codec": "dc-ae:codec"}). */
    public static final String CODEC_FOLDER = "codec";

    /** The LatteConfig of the new model: the VLM's sizes with these generation settings; checked before any weight is read. */
    public static LatteConfig config(LatteConfig vlm, Settings s) throws IOException {
        if (s.groups() < 1 || vlm.numLayers() % s.groups() != 0) {
            throw new IllegalArgumentException("--groups " + s.groups() + " must divide the VLM's " + vlm.numLayers() + " layers");
        }
        LatteConfig c = vlm.toBuilder().variant(s.variant()).groups(s.groups()).overlap(Math.min(vlm.overlap(), 1000 / s.groups() - 1))
                .residualAttention(s.residualAttention()).build();
        if (s.codec() == null) return c.toBuilder().genImageSize(s.genImageSize()).latentPatch(s.latentPatch()).build();
        io.latteflow.model.latent.DcAeConfig dcAe = io.latteflow.model.latent.DcAeCodec.readConfig(s.codec());
        if (s.genImageSize() % dcAe.spatialFactor() != 0) {
            throw new IllegalArgumentException("--gen-image-size " + s.genImageSize() + " must be a multiple of the codec's spatial factor " + dcAe.spatialFactor());
        }
        return c.withDcAe(CODEC_FOLDER, dcAe, s.genImageSize());
    }

    public static LatteConfig write(Path vlmDir, Path out, Settings s, DType dtype) throws IOException {
        Qwen2VlFolder folder = Qwen2VlFolder.read(vlmDir);
        LatteConfig c = config(folder.config(), s);
        ChatTemplate.read(vlmDir);                                  // the chat files must be usable before hours of loading
        ImageProcessor.read(vlmDir, c);
        ParamStore vlm = Checkpoint.loadVlmWeights(vlmDir, folder.config(), folder.tied());
        ParamStore store = new ParamStore(s.seed());
        vlm.all().forEach(store::put);
        LatteWeights.addGeneration(c, store);
        Files.createDirectories(out);
        Checkpoint.save(out, c, store, vlmDir.resolve(Checkpoint.TOKENIZER), dtype);
        if (s.codec() != null) io.latteflow.model.latent.DcAeCodec.copyFolder(s.codec(), out.resolve(CODEC_FOLDER));
        for (String name : CHAT_FILES) {
            Path file = vlmDir.resolve(name);
            if (Files.isRegularFile(file)) Files.copy(file, out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        return c;
    }
}
