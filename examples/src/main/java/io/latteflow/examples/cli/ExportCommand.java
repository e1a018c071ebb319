package io.latteflow.examples.cli;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.RequestLimits;
import io.latteflow.model.io.Checkpoint;
import io.latteflow.model.train.TrainingRun;
import io.latteflow.model.io.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code latte export}: copies a model directory (a finished run, or one of its snapshots) to another folder with
 * its weights in F32, F16 or BF16, keeping the run's {@code train.json} and {@code metrics.jsonl} beside it.
 * With {@code --checkpoint} it exports a run still in progress: its latest checkpoint, EMA weights in place.
 *
 * <pre>{@code
 * ./latte export --model runs/emoji --checkpoint --out /tmp/emoji-now
 * }</pre>
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a model directory (e.g. a training snapshot) to another folder in F32, F16 or BF16.")
public final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The model directory to export.")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write it (must not hold a model).")
    Path out;

    @Option(names = "--dtype", paramLabel = "F32|F16|BF16", defaultValue = "F16", description = "Weight precision. Default: ${DEFAULT-VALUE}.")
    DType dtype;

    @Option(names = "--checkpoint", description = "--model is a run in progress: export its latest checkpoint, with the EMA weights a finished run would save.")
    boolean checkpoint;

    @Option(names = "--steps", paramLabel = "N", description = "Write this as the model's default Euler steps (config.json defaultSteps). Default: kept.")
    Integer steps;

    @Option(names = "--cfg", paramLabel = "S",
            description = "Write this as the model's default guidance scale (config.json defaultCfg), e.g. the best of a sweep with 'latte eval emoji --cfg'. Default: kept.")
    Double cfg;

    @Option(names = "--with", paramLabel = "FILE", description = "Another file to copy beside the model (repeatable), e.g. the run's train.json.")
    List<Path> extra;

    @Override
    public Integer call() throws IOException {
        Path src = ModelOptions.resolve(model);
        if (!Files.isDirectory(src)) throw new CliError("No model at '" + model + "': the directory does not exist");
        if (Files.exists(out.resolve("model.safetensors"))) throw new CliError("--out '" + out + "' already holds a model");
        String refused = RequestLimits.DEFAULTS.generationRefusal("export", steps, cfg);
        if (refused != null) throw new CliError(ModelOptions.optionOf(refused) + ": " + refused);
        String what = src.toString();
        try {
            Files.createDirectories(out);
            if (checkpoint) {
                TrainingRun.CheckpointInfo at = TrainingRun.exportCheckpoint(src, out, dtype);
                what = src + " (" + at.stage().name().toLowerCase() + " step " + at.step() + ")";
            } else {
                try (LatteFlow flow = LatteFlow.load(src)) {
                    flow.save(out, dtype);
                }
            }
            if (steps != null || cfg != null) {                // issue 20: the guidance a sweep chose ships with the model
                Path file = out.resolve(Checkpoint.CONFIG);
                LatteConfig.Builder c = LatteConfig.read(file).toBuilder();
                if (steps != null) c.defaultSteps(steps);
                if (cfg != null) c.defaultCfg(cfg);
                c.build().write(file);
            }
        } catch (IOException e) {
            throw new CliError("Cannot export '" + src + "': " + e.getMessage(), e);
        }
        if (extra != null) {
            for (Path f : extra) {
                if (!Files.isRegularFile(f)) throw new CliError("--with '" + f + "' is not a file");
                Files.copy(f, out.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        spec.commandLine().getErr().printf("Exported %s to %s (%s, %.1f MB).%n", what, out, dtype,
                Files.size(out.resolve("model.safetensors")) / 1e6);
        spec.commandLine().getErr().flush();
        return 0;
    }
}
