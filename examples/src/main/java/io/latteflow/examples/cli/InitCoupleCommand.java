package io.latteflow.examples.cli;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.Variant;
import io.latteflow.model.hf.CoupleInit;
import io.latteflow.model.hf.Qwen2VlFolder;
import io.latteflow.model.io.Checkpoint;
import io.latteflow.model.io.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code latte init-couple}: a LaTtE-Flow model made from a pretrained Qwen2-VL folder (the paper's initialisation). */
@Command(name = "init-couple", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Make a LaTtE-Flow model from a Hugging Face Qwen2-VL folder: its VLM as it is, generation layers "
                + "copied from the VLM's layers, generation-only weights freshly initialised. Continue with "
                + "'latte train --init DIR'.")
public final class InitCoupleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--vlm", required = true, paramLabel = "DIR",
            description = "A Qwen2-VL folder as downloaded from the hub, e.g. Qwen2-VL-2B-Instruct.")
    Path vlm;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the new model.")
    Path out;

    @Option(names = "--groups", paramLabel = "K", defaultValue = "4",
            description = "Timestep-expert groups K; must divide the VLM's layers (28 for Qwen2-VL-2B). Default: ${DEFAULT-VALUE}.")
    int groups;

    @Option(names = "--variant", paramLabel = "couple|blend", defaultValue = "couple",
            description = "Couple keeps the VLM frozen (the paper's choice for a pretrained VLM); Blend shares attention. Default: ${DEFAULT-VALUE}.")
    Variant variant;

    @Option(names = "--no-residual-attention", description = "Turn timestep-conditioned residual attention off.")
    boolean noResidualAttention;

    @Option(names = "--gen-image-size", paramLabel = "PX", defaultValue = "256",
            description = "Side of the images the model draws. Default: ${DEFAULT-VALUE}.")
    int genImageSize;

    @Option(names = "--latent-patch", paramLabel = "PX", defaultValue = "32",
            description = "Pixel patch side of the latent codec: (PX/patch)^2 image tokens. Default: ${DEFAULT-VALUE}.")
    int latentPatch;

    @Option(names = "--codec", paramLabel = "DIR",
            description = "Draw in the latent space of this DC-AE folder (e.g. mit-han-lab/dc-ae-f32c32-in-1.0-diffusers, the "
                    + "paper's), copied into --out/codec; one token per latent cell, --latent-patch is ignored. Default: pixel patches.")
    Path codec;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0", description = "Seed of the new weights. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--dtype", paramLabel = "F32|F16|BF16", defaultValue = "BF16",
            description = "Weight type of the written model (Qwen2-VL ships BF16). Default: ${DEFAULT-VALUE}.")
    DType dtype;

    @Option(names = "--force", description = "Replace an earlier model's files in --out: those it wrote, as "
            + "--out/.latte-output lists them; other files in --out stay.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        Path dir = ModelOptions.resolve(vlm);
        if (!Files.isDirectory(dir)) throw new CliError("--vlm '" + vlm + "' is not a folder");
        if (!Qwen2VlFolder.isHuggingFace(dir)) {
            throw new CliError("--vlm '" + vlm + "' is not a Hugging Face model folder (its config.json names no model_type)");
        }
        List<String> written = written(dir);
        checkOut(written);
        PrintWriter err = spec.commandLine().getErr();
        CoupleInit.Settings settings = new CoupleInit.Settings(variant, groups, !noResidualAttention, genImageSize, latentPatch, seed, codec);
        LatteConfig c;
        try {
            CoupleInit.config(Qwen2VlFolder.read(dir).config(), settings);       // bad settings fail before the weights load
            err.printf("Reading %s and writing a LaTtE-Flow %s with K = %d to %s ...%n", dir, variant.name().toLowerCase(), groups, out);
            err.flush();
            OutputFolder folder = OutputFolder.at(out, OutputFolder.Tool.INIT_COUPLE);
            if (force && folder.holdsOutput()) folder.clear();       // what an earlier run wrote, never the user's files
            folder.claim(written);
            c = CoupleInit.write(dir, out, settings, dtype);
        } catch (IOException | IllegalArgumentException e) {
            throw new CliError(e.getMessage(), e);
        }
        err.printf("Wrote %s: L = %d layers in K = %d groups of M = %d, %d latent tokens per %dx%d image.%n", out,
                c.numLayers(), c.groups(), c.layersPerGroup(), c.latentTokens(), c.genImageSize(), c.genImageSize());
        err.flush();
        return 0;
    }

    /** The files the new model is made of, listed in --out's marker so that a later {@code --force} removes these only. */
    private List<String> written(Path vlmDir) {
        List<String> files = new ArrayList<>(List.of(Checkpoint.CONFIG, Checkpoint.WEIGHTS, Checkpoint.TOKENIZER));
        for (String name : CoupleInit.CHAT_FILES) if (Files.isRegularFile(vlmDir.resolve(name))) files.add(name);
        if (codec != null) files.add(CoupleInit.CODEC_FOLDER + "/**");
        return files;
    }

    /**
     * Refuses a bad --out before the weights are read: a file, a folder holding files without --force, a user's file
     * where the model's would go (issue 19: --force deleted the whole folder).
     */
    private void checkOut(List<String> written) throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) throw new CliError("--out '" + out + "' is a file, not a folder");
        if (Files.isDirectory(out) && !force) {
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent()) {
                    throw new CliError("--out '" + out + "' already holds files; choose another folder or pass --force to replace "
                            + "an earlier model's files (other files stay)");
                }
            }
        }
        OutputPaths.requireWritableFolder("--out", out);
        if (force) OutputFolder.at(out, OutputFolder.Tool.INIT_COUPLE).requireClaimable(written);
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
