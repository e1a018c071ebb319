package io.latteflow.examples.cli;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Which model a command runs: a checkpoint directory ({@code --model}) or, for trying the command without one,
 * a freshly initialised preset ({@code --preset}, {@code --init-seed}) whose outputs are noise.
 */
public final class ModelOptions {
    static final String DEFAULT_MODEL = "models/latte-emoji";

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--model", paramLabel = "DIR", defaultValue = DEFAULT_MODEL,
            description = "Model directory (config.json, model.safetensors, tokenizer.json), or a Hugging Face Qwen2-VL "
                    + "folder. A relative path is looked "
                    + "up in the current directory, then in the repository root. Default: ${DEFAULT-VALUE}.")
    Path model;

    @Option(names = "--preset", paramLabel = "tiny|small|bench",
            description = "Instead of --model: a freshly initialised, untrained model of this size (outputs are noise; "
                    + "for trying the command without a checkpoint).")
    String preset;

    @Option(names = "--init-seed", paramLabel = "K", defaultValue = "0",
            description = "Weight-initialisation seed of the --preset model. Default: ${DEFAULT-VALUE}.")
    long initSeed;

    /** Opens the model; progress notes go to {@code err}. */
    public LatteFlow open(PrintWriter err) {
        if (preset != null) {
            if (mixee.commandLine().getParseResult().hasMatchedOption("--model")) {
                throw new ParameterException(mixee.commandLine(), "--model and --preset exclude each other");
            }
            LatteConfig config = presetConfig(mixee, "--preset", preset);
            err.println("Using an untrained '" + preset + "' model (init seed " + initSeed + "): its outputs are noise.");
            err.flush();
            return LatteFlow.create(config, initSeed);
        }
        Path dir = resolve(model);
        if (!Files.isDirectory(dir)) {
            throw new CliError("No model at '" + model + "': the directory does not exist. Point --model at a model "
                    + "directory (the shipped ones are in models/; a Hugging Face Qwen2-VL folder works too), train one "
                    + "with 'latte train --images DIR --out " + model + "', or try the command on an untrained model with --preset tiny.");
        }
        try {
            return LatteFlow.load(dir);
        } catch (IOException e) {
            throw new CliError("Cannot load the model in '" + dir + "': " + e.getMessage(), e);
        }
    }

    /**
     * The model as a directory, for code that loads it itself (the Flink operators load it once per TaskManager):
     * the checked {@code --model} directory, or the {@code --preset} model saved into {@code scratch}.
     */
    public Path directory(PrintWriter err, Path scratch) {
        if (preset == null) {
            Path dir = resolve(model);
            try (LatteFlow checked = open(err)) {
                return dir.toAbsolutePath();
            }
        }
        try (LatteFlow flow = open(err)) {
            flow.save(scratch);
            return scratch.toAbsolutePath();
        } catch (IOException e) {
            throw new CliError("Cannot save the --preset model to '" + scratch + "': " + e.getMessage(), e);
        }
    }

    /** The option a refusal of {@code RequestLimits} is about, as the commands name it: --steps, --cfg or --prompt. */
    static String optionOf(String refusal) {
        return refusal.startsWith("steps") ? "--steps" : refusal.startsWith("guidance") ? "--cfg" : "--prompt";
    }

    /** A relative model path that is not in the working directory is looked up under the repository root. */
    static Path resolve(Path p) {
        if (p.isAbsolute() || Files.exists(p)) return p;
        String home = System.getProperty("latte.home");
        if (home != null && Files.exists(Path.of(home).resolve(p))) return Path.of(home).resolve(p);
        // Without the launcher (tests, an IDE), the repository root is the nearest parent holding the latte script.
        for (Path d = Path.of("").toAbsolutePath().getParent(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("latte")) && Files.exists(d.resolve(p))) return d.resolve(p);
        }
        return p;
    }

    static LatteConfig presetConfig(CommandSpec spec, String option, String name) {
        if (!List.of("tiny", "small", "bench").contains(name)) {
            throw new ParameterException(spec.commandLine(), option + " must be tiny, small or bench, got '" + name + "'");
        }
        return LatteConfig.preset(name);
    }
}
