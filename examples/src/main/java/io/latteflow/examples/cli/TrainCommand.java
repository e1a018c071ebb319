package io.latteflow.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.Variant;
import io.latteflow.model.hf.CoupleInit;
import io.latteflow.model.data.CaptionedImage;
import io.latteflow.model.data.VqaSample;
import io.latteflow.model.io.Checkpoint;
import io.latteflow.model.io.TokenizerBuilder;
import io.latteflow.model.train.GroupSampling;
import io.latteflow.model.train.TrainingRun;
import me.tongfei.progressbar.ProgressBar;
import io.latteflow.model.io.DType;
import io.latteflow.model.latent.DcAeCodec;
import io.latteflow.model.latent.DcAeConfig;
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

/**
 * {@code latte train}: trains a model from scratch, first the VLM on questions about the images (optional), then
 * the generation path with the per-group flow-matching loss, in a run directory that is resumable after a crash
 * or {@code kill -9} ({@code --resume}) and becomes a model directory when the run ends.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a model from scratch on a data set or a folder of captioned PNGs and save it as a model directory.",
                "Checkpoints every --checkpoint-every steps; after an interruption, the same command with --resume "
                        + "continues bit-for-bit from the last checkpoint.",
                "Folder captions: captions.tsv (file<TAB>caption) in the folder if present, else the file name without "
                        + "its extension, '_' and '-' read as spaces."})
public final class TrainCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Where a --codec folder is copied in the run directory, and what config.json names ("dc-ae:codec"). */
    static final String CODEC_FOLDER = "codec";

    @Spec
    CommandSpec spec;

    @Option(names = "--images", paramLabel = "DIR", description = "Folder of training PNGs (instead of --data).")
    Path images;

    @Option(names = "--data", paramLabel = "SET", description = "A fetched data set (instead of --images): "
            + DataSets.NAMES + ". Fetch them with 'latte data fetch'.")
    String data;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the data sets are. Default: $LATTE_DATA, else ./data.")
    Path dataDir;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Run directory; at the end a model directory (config.json, model.safetensors, tokenizer.json, "
                    + "metrics.jsonl, train.json).")
    Path out;

    @Option(names = "--resume", description = "Continue the interrupted run in --out from its last checkpoint, with the model it was started with (model options may be left out; the training options must match).")
    boolean resume;

    @Option(names = "--init", paramLabel = "DIR",
            description = "Start from this model's weights, config and tokenizer (e.g. one made by 'latte init-couple') "
                    + "instead of a fresh --preset model.")
    Path init;

    @Option(names = "--preset", paramLabel = "NAME", defaultValue = "bench",
            description = "Model size: tiny, small, bench, paper. Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--variant", paramLabel = "couple|blend", defaultValue = "couple",
            description = "Couple: frozen VLM, generation layers are trainable copies; Blend: shared attention, "
                    + "everything trained. Default: ${DEFAULT-VALUE}.")
    Variant variant;

    @Option(names = "--codec", paramLabel = "DIR",
            description = "Draw in the latent space of this DC-AE folder (diffusers or efficientvit layout, e.g. one made "
                    + "by 'latte train-codec'), copied into --out/codec; one token per latent cell. Default: the preset's "
                    + "codec (pixel patches).")
    Path codec;

    @Option(names = "--gen-image-size", paramLabel = "PIXELS",
            description = "Side of the generated images (a multiple of the codec's spatial factor). Default: the preset's.")
    Integer genImageSize;

    @Option(names = "--groups", paramLabel = "K",
            description = "Timestep-expert groups K (must divide the layer count; 1 = vanilla). Default: the preset's (bench 4, tiny 2).")
    Integer groups;

    @Option(names = "--no-residual-attention", description = "Turn timestep-conditioned residual attention off.")
    boolean noResidualAttention;

    @Option(names = "--vocab", paramLabel = "N",
            description = "Token vocabulary size: the N - 7 most frequent words of the data's captions, questions and "
                    + "answers, [UNK] and 6 special tokens. Words past the cut are read as [UNK] and can never be answered; "
                    + "emoji names need a few thousand. Default: the preset's (small 512).")
    Integer vocab;

    @Option(names = "--group-sampling", paramLabel = "per-sample|per-step", defaultValue = "per-sample",
            description = "per-sample: every generation step deals its batch out over all K expert groups and updates "
                    + "them all (the paper's joint training); per-step: each step trains one drawn group on the whole "
                    + "batch (how the runs before this option trained). Default: ${DEFAULT-VALUE}.")
    String groupSampling;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "1000",
            description = "Generation training steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--understanding-steps", paramLabel = "N", defaultValue = "0",
            description = "VLM training steps on the questions of the data, run before generation. Default: ${DEFAULT-VALUE}.")
    int understandingSteps;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "16", description = "Samples per step. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "1e-3", description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0",
            description = "Seed of initialisation, batches, noise and timesteps. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "100",
            description = "Steps between checkpoints (a kill loses at most this many). Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--ema", paramLabel = "DECAY", defaultValue = "0.999",
            description = "EMA decay of the generation weights; the saved model holds the average. Default: ${DEFAULT-VALUE}.")
    double ema;

    @Option(names = "--snapshot-every", paramLabel = "N", defaultValue = "0",
            description = "Also save the EMA model every N generation steps under --out/snapshots (for curves over training; 0 = never). Default: ${DEFAULT-VALUE}.")
    int snapshotEvery;

    @Option(names = "--dtype", paramLabel = "F32|F16|BF16", defaultValue = "F32",
            description = "Precision of the saved weights. Default: ${DEFAULT-VALUE}.")
    DType dtype;

    @Option(names = "--force", description = "Replace an earlier run's output in --out: the files that run wrote, as "
            + "--out/.latte-output lists them; other files in --out stay.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        TrainingRun.Plan plan = plan();
        if (init != null && resume) throw bad("--init starts a new run; --resume continues one: give only one of them");
        if (init != null && (codec != null || genImageSize != null)) throw bad("--codec and --gen-image-size shape a new model; an --init model keeps its own");
        LatteFlow initial = init == null ? null : initialModel();
        LatteConfig config = initial != null ? initial.config() : resume ? resumedConfig() : config();
        if ((images == null) == (data == null)) throw bad("Give exactly one of --images DIR and --data SET");
        List<String> written = written(initial);
        if (!resume) checkOut(written);
        TrainingData set = images != null ? TrainingData.folder(images) : DataSets.load(data, dataDir, config);
        PrintWriter err = spec.commandLine().getErr();
        long wallStart = System.nanoTime();
        TrainingRun run;
        if (resume) {
            try {
                run = TrainingRun.resume(out, plan, set.description());
            } catch (IOException e) {
                throw new CliError(e.getMessage(), e);
            }
            err.printf("Resuming the run in %s on %s.%n", out, set.description());
        } else {
            OutputFolder folder = OutputFolder.at(out, OutputFolder.Tool.TRAIN);
            if (force && folder.holdsOutput()) folder.clear();       // what an earlier run wrote, never the user's files
            folder.claim(written);
            LatteFlow start = initial;
            if (start == null) {
                if (codec != null) DcAeCodec.load(codec, config.genImageSize()).copyFolderTo(out.resolve(CODEC_FOLDER));
                Path tokenizer = out.resolve(Checkpoint.TOKENIZER);
                TokenizerBuilder.writeWordLevel(set.corpus(), config.vocabSize() - 7, tokenizer);
                start = LatteFlow.create(config, seed, tokenizer, out);
            }
            run = TrainingRun.start(out, start, plan, set.description());
            err.printf("Training %s %s model (L=%d, d=%d, K=%d, residual attention %s) on %s.%n",
                    initial != null ? "the --init" : "a " + preset, config.variant().name().toLowerCase(), config.numLayers(),
                    config.hiddenSize(), config.groups(), config.residualAttention() ? "on" : "off", set.description());
        }
        err.flush();
        try (LatteFlow flow = run.flow(); Bars bars = new Bars(err)) {
            run.train(set.vqa(), set.images(), bars);
            if (dtype != DType.F32) {
                try (LatteFlow trained = LatteFlow.load(out)) {
                    trained.save(out, dtype);
                }
            }
        }
        recordCommand((System.nanoTime() - wallStart) / 1e9);
        err.println("Saved the model to " + out);
        err.flush();
        return 0;
    }

    /** One progress bar per stage, with loss, steps/s and ETA. */
    private static final class Bars implements TrainingRun.Listener, AutoCloseable {
        private final PrintWriter err;
        private ProgressBar bar;

        Bars(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void onStage(TrainingRun.Stage stage, int done, int total) {
            close();
            bar = Progress.bar(stage.name().toLowerCase(), total, " steps", done, err);
        }

        @Override
        public void onStep(TrainingRun.Stage stage, int step, int total, double loss, Integer group, double seconds) {
            bar.stepTo(step);
            bar.setExtraMessage(String.format(" loss %.4f", loss) + (group == null ? "" : " (group " + group + ")"));
        }

        @Override
        public void close() {
            if (bar != null) bar.close();
            bar = null;
        }
    }

    /** Adds the command line and the wall time to train.json, so a shipped model says how it was made. */
    private void recordCommand(double wallSeconds) throws IOException {
        Path summary = out.resolve(TrainingRun.SUMMARY);
        ObjectNode node = (ObjectNode) JSON.readTree(summary.toFile());
        List<String> args = new ArrayList<>(List.of("latte"));
        args.addAll(spec.commandLine().getParseResult().originalArgs());            // the whole line: "train" comes first
        node.put("command", String.join(" ", args));
        node.put("wall_seconds_last_session", Math.round(wallSeconds * 10) / 10.0);
        JSON.writerWithDefaultPrettyPrinter().writeValue(summary.toFile(), node);
    }

    private TrainingRun.Plan plan() {
        if (steps < 0) throw bad("--steps must be >= 0, got " + steps);
        if (understandingSteps < 0) throw bad("--understanding-steps must be >= 0, got " + understandingSteps);
        if (steps + understandingSteps == 0) throw bad("--steps and --understanding-steps are both 0: nothing to train");
        if (batch < 1) throw bad("--batch must be >= 1, got " + batch);
        if (!(lr > 0) || Double.isInfinite(lr)) throw bad("--lr must be a finite number > 0, got " + lr);
        if (checkpointEvery < 1) throw bad("--checkpoint-every must be >= 1, got " + checkpointEvery);
        if (!(ema >= 0 && ema < 1)) throw bad("--ema must be in [0, 1), got " + ema);
        if (snapshotEvery < 0) throw bad("--snapshot-every must be >= 0, got " + snapshotEvery);
        GroupSampling sampling = switch (groupSampling) {
            case "per-sample" -> GroupSampling.PER_SAMPLE;
            case "per-step" -> GroupSampling.PER_STEP;
            default -> throw bad("--group-sampling must be per-sample or per-step, got '" + groupSampling + "'");
        };
        return new TrainingRun.Plan(understandingSteps, steps, batch, lr, seed, checkpointEvery, ema, snapshotEvery, sampling);
    }

    private LatteConfig config() {
        LatteConfig c = ModelOptions.presetConfig(spec, "--preset", preset);
        try {
            c = c.withVariant(variant);
            if (groups != null) c = c.withGroups(groups);
            if (noResidualAttention) c = c.withResidualAttention(false);
        } catch (IllegalArgumentException e) {
            throw bad("--groups " + groups + " does not fit the " + preset + " preset (" + c.numLayers() + " layers): " + e.getMessage());
        }
        if (vocab != null) {
            if (vocab < 8) throw bad("--vocab must be >= 8 (7 ids are [UNK] and the special tokens), got " + vocab);
            c = c.withVocabSize(vocab);
        }
        int side = genImageSize != null ? genImageSize : c.genImageSize();
        if (codec != null) {
            DcAeConfig dcAe;
            try {
                dcAe = DcAeCodec.readConfig(codec);
            } catch (IOException | IllegalArgumentException e) {
                throw bad("--codec " + codec + ": " + e.getMessage());
            }
            if (side % dcAe.spatialFactor() != 0) {
                throw bad("--gen-image-size " + side + " must be a multiple of the codec's spatial factor " + dcAe.spatialFactor());
            }
            try {
                c = c.withDcAe(CODEC_FOLDER, dcAe, side);
            } catch (IllegalArgumentException e) {
                throw bad("--codec " + codec + " does not fit the " + preset + " preset: " + e.getMessage());
            }
        } else if (genImageSize != null) {
            try {
                c = c.toBuilder().genImageSize(side).build();
            } catch (IllegalArgumentException e) {
                throw bad("--gen-image-size " + side + ": " + e.getMessage());
            }
        }
        return c;
    }

    /** The options that shape the model; a resumed run keeps the shape it was started with. */
    private static final List<String> MODEL_OPTIONS = List.of("--preset", "--variant", "--codec", "--gen-image-size", "--groups",
            "--no-residual-attention", "--vocab");

    /**
     * The config of the run being resumed, which its data is prepared for. Issue 20: a resume without
     * --gen-image-size prepared a 64x64 run's images at the default preset's 32x32, and the run went on training on
     * them upscaled. Model options given with --resume must describe the run's model.
     */
    private LatteConfig resumedConfig() {
        LatteConfig saved;
        try {
            saved = TrainingRun.savedConfig(out);
        } catch (IOException e) {
            throw new CliError(e.getMessage(), e);
        }
        List<String> given = MODEL_OPTIONS.stream().filter(spec.commandLine().getParseResult()::hasMatchedOption).toList();
        if (!given.isEmpty() && !config().equals(saved)) {
            throw bad("--resume continues the run in " + out + " with the model it was started with (" + saved.genImageSize() + "x"
                    + saved.genImageSize() + " images, L=" + saved.numLayers() + ", d=" + saved.hiddenSize() + ", K=" + saved.groups()
                    + ", vocabulary " + saved.vocabSize() + "); " + String.join(", ", given) + " describe another: leave them out");
        }
        return saved;
    }

    /** The --init model; a Qwen2-VL-based one trains its generation path only (the paper's Couple keeps the VLM frozen). */
    private LatteFlow initialModel() {
        LatteFlow flow;
        try {
            flow = LatteFlow.load(ModelOptions.resolve(init));
        } catch (IOException e) {
            throw new CliError("Cannot load --init '" + init + "': " + e.getMessage(), e);
        }
        String why = !flow.canGenerate() ? flow.generationRefusal()
                : flow.chat() != null && plan().understandingSteps() > 0
                ? "--understanding-steps must be 0 with a model made from Qwen2-VL: its VLM stays as pretrained" : null;
        if (why != null) {
            flow.close();
            throw new CliError(why);
        }
        return flow;
    }

    /**
     * What this run writes in --out, listed in its marker so that a later {@code --force} removes these and nothing
     * else (issue 19: {@code --force} deleted the whole folder, the user's own files in it too).
     */
    private List<String> written(LatteFlow initial) {
        List<String> files = new ArrayList<>(List.of(TrainingRun.RUN, TrainingRun.METRICS, TrainingRun.SUMMARY, Checkpoint.CONFIG,
                Checkpoint.WEIGHTS, Checkpoint.TOKENIZER, TrainingRun.CHECKPOINT + "/**", TrainingRun.CHECKPOINT + ".partial/**",
                TrainingRun.CHECKPOINT + ".old/**"));
        if (snapshotEvery > 0) files.add("snapshots/**");
        if (codec != null) files.add(CODEC_FOLDER + "/**");
        if (initial != null && initial.chat() != null) files.addAll(CoupleInit.CHAT_FILES);     // a Qwen2-VL Couple keeps its chat
        return files;
    }

    /** Refuses a bad --out before any work: a file, a folder holding files without --force, a user's file in the way. */
    private void checkOut(List<String> written) throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) throw new CliError("--out '" + out + "' is a file, not a folder");
        if (init != null && Files.isDirectory(out) && Files.isSameFile(ModelOptions.resolve(init), out)) {
            throw new CliError("--out '" + out + "' is the --init model's folder; write the new run to another folder");
        }
        if (Files.isDirectory(out) && !force) {
            boolean run = Files.exists(out.resolve(TrainingRun.RUN)) && !Files.exists(out.resolve(TrainingRun.SUMMARY));
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent()) {
                    throw new CliError("--out '" + out + "' already holds " + (run ? "an unfinished training run; continue it with --resume, or"
                            : "files;") + " choose another folder or pass --force to replace an earlier run's output (other files stay)");
                }
            }
        }
        OutputPaths.requireWritableFolder("--out", out);
        if (force) OutputFolder.at(out, OutputFolder.Tool.TRAIN).requireClaimable(written);
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
