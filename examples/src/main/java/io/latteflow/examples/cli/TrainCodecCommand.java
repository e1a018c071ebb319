package io.latteflow.examples.cli;

import io.latteflow.model.data.DataException;
import io.latteflow.model.data.DataRoot;
import io.latteflow.model.data.EmojiSet;
import io.latteflow.model.latent.DcAeConfig;
import io.latteflow.model.train.CodecTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code latte train-codec}: trains a small DC-AE on the emoji sets (issue 20) and writes it as a diffusers folder
 * that {@code latte train --codec} draws in. Resumable after a stop ({@code --resume}).
 */
@Command(name = "train-codec", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a DC-AE latent codec on a data set's training images and save it as a diffusers folder "
                + "(--out/codec) with its held-out PSNR (--out/report.json).",
                "Checkpoints every --checkpoint-every steps; the same command with --resume continues from the last one."})
public final class TrainCodecCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "SET", defaultValue = "emoji",
            description = "emoji (both styles), emoji-google or emoji-twitter; training emoji train, held-out emoji measure. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the data sets are. Default: $LATTE_DATA, else ./data.")
    Path dataDir;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Run directory; the codec ends in DIR/codec.")
    Path out;

    @Option(names = "--resume", description = "Continue the interrupted run in --out from its last checkpoint.")
    boolean resume;

    @Option(names = "--architecture", paramLabel = "NAME", defaultValue = "dc-ae-f8c16-small",
            description = "dc-ae-f8cN-small (N latent channels dividing 128) or a published DC-AE name. Default: ${DEFAULT-VALUE}.")
    String architecture;

    @Option(names = "--size", paramLabel = "PIXELS", defaultValue = "64", description = "Image side. Default: ${DEFAULT-VALUE}.")
    int size;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "2500", description = "Optimizer steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "Images per step. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "1e-3",
            description = "Adam learning rate, held for 70% of the steps, then falling linearly to a tenth. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0", description = "Seed of initialisation, batches and flips. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "100", description = "Steps between checkpoints. Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Override
    public Integer call() throws Exception {
        DcAeConfig config;
        try {
            config = DcAeConfig.preset(architecture);
        } catch (IllegalArgumentException e) {
            throw bad("--architecture: " + e.getMessage());
        }
        if (size < config.spatialFactor() || size % config.spatialFactor() != 0 || size > 1024) {
            throw bad("--size " + size + " must be a multiple of the codec's spatial factor " + config.spatialFactor() + ", at most 1024");
        }
        CodecTrainer.Options options;
        try {
            options = new CodecTrainer.Options(steps, batch, lr, seed, checkpointEvery);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        List<String> styles = switch (data) {
            case "emoji" -> EmojiSet.STYLES;
            case "emoji-google" -> List.of("google");
            case "emoji-twitter" -> List.of("twitter");
            default -> throw bad("--data must be emoji, emoji-google or emoji-twitter, got '" + data + "'");
        };
        boolean started = Files.isRegularFile(out.resolve("state.json"));
        if (resume && !started) throw new CliError("--resume: " + out + " holds no codec run (no state.json)");
        if (!resume) {
            if (Files.exists(out) && !Files.isDirectory(out)) throw new CliError("--out '" + out + "' is a file, not a folder");
            if (Files.isDirectory(out)) {
                try (Stream<Path> s = Files.list(out)) {
                    if (s.findAny().isPresent()) {
                        throw new CliError("--out '" + out + "' already holds " + (started ? "a codec run; continue it with --resume, or" : "files;")
                                + " choose another folder");
                    }
                }
            }
            OutputPaths.requireWritableFolder("--out", out);
        }
        Path root = dataDir != null ? dataDir : DataRoot.resolve().dir();
        List<BufferedImage> train, heldOut;
        try {
            train = EmojiSet.split(root, styles, false).stream().map(e -> e.image(size)).toList();
            heldOut = EmojiSet.split(root, styles, true).stream().map(e -> e.image(size)).toList();
        } catch (DataException e) {
            throw new CliError(e.getMessage(), e);
        }
        PrintWriter err = spec.commandLine().getErr();
        try {
            new CodecTrainer(config, size, train, heldOut, options).run(out, err);
        } catch (IllegalArgumentException e) {                // a resume with other settings than the run's
            throw new CliError(e.getMessage(), e);
        }
        err.flush();
        return 0;
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
