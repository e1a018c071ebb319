package io.latteflow.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.Images;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.Variant;
import io.latteflow.model.io.Checkpoint;
import io.latteflow.model.io.TokenizerBuilder;
import io.latteflow.model.train.GenerationTrainer;
import io.latteflow.model.train.UnderstandingTrainer;
import me.tongfei.progressbar.ProgressBar;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code latte train}: trains a model from scratch on a folder of captioned PNGs: first the VLM on
 * "what is this?" -> caption (optional), then the generation path with the per-group flow-matching loss.
 * Everything is written to a hidden staging folder next to {@code --out} and moved into place at the end.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a model from scratch on a folder of captioned PNGs and save it as a model directory.",
                "Captions: captions.tsv (file<TAB>caption) in the folder if present, else the file name without "
                        + "its extension, '_' and '-' read as spaces."})
public final class TrainCommand implements Callable<Integer> {
    static final String QUESTION = "what is this?";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--images", required = true, paramLabel = "DIR", description = "Folder of training PNGs.")
    Path images;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Model directory to write (config.json, model.safetensors, tokenizer.json, metrics.jsonl).")
    Path out;

    @Option(names = "--preset", paramLabel = "tiny|bench", defaultValue = "bench",
            description = "Model size. Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--variant", paramLabel = "couple|blend", defaultValue = "couple",
            description = "Couple: frozen VLM, generation layers are trainable copies; Blend: shared attention, "
                    + "everything trained. Default: ${DEFAULT-VALUE}.")
    Variant variant;

    @Option(names = "--groups", paramLabel = "K",
            description = "Timestep-expert groups K (must divide the layer count; 1 = vanilla). Default: the preset's (bench 4, tiny 2).")
    Integer groups;

    @Option(names = "--no-residual-attention", description = "Turn timestep-conditioned residual attention off.")
    boolean noResidualAttention;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "1000",
            description = "Generation training steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--understanding-steps", paramLabel = "N", defaultValue = "0",
            description = "VLM training steps on \"" + QUESTION + "\" -> caption, run before generation. Default: ${DEFAULT-VALUE}.")
    int understandingSteps;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "16", description = "Images per step. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "1e-3", description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0",
            description = "Seed of initialisation, batches, noise and timesteps. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--force", description = "Replace --out if it already holds files (only after training succeeds).")
    boolean force;

    @Override
    public Integer call() throws Exception {
        LatteConfig config = config();
        if (steps < 0) throw bad("--steps must be >= 0, got " + steps);
        if (understandingSteps < 0) throw bad("--understanding-steps must be >= 0, got " + understandingSteps);
        if (steps + understandingSteps == 0) throw bad("--steps and --understanding-steps are both 0: nothing to train");
        if (batch < 1) throw bad("--batch must be >= 1, got " + batch);
        if (!(lr > 0) || Double.isInfinite(lr)) throw bad("--lr must be a finite number > 0, got " + lr);
        checkOut();
        TrainingSet data = TrainingSet.load(images);
        PrintWriter err = spec.commandLine().getErr();
        err.printf("Training a %s %s model (L=%d, d=%d, K=%d, residual attention %s) on %d images from %s.%n",
                preset, config.variant().name().toLowerCase(), config.numLayers(), config.hiddenSize(), config.groups(),
                config.residualAttention() ? "on" : "off", data.size(), images);
        err.flush();

        Path target = out.toAbsolutePath().normalize();
        Path staging = target.resolveSibling("." + target.getFileName() + ".partial-" + ProcessHandle.current().pid());
        Thread cleanup = new Thread(() -> deleteQuietly(staging));
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            Outputs.deleteTree(staging);
            Files.createDirectories(staging);
            Path tokenizer = staging.resolve(Checkpoint.TOKENIZER);
            TokenizerBuilder.writeWordLevel(data.captions(), config.vocabSize() - 7, tokenizer);
            try (LatteFlow flow = LatteFlow.create(config, seed, tokenizer);
                 BufferedWriter metrics = Files.newBufferedWriter(staging.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
                Random random = new Random(seed);
                if (understandingSteps > 0) trainUnderstanding(flow, data, metrics, random, err);
                if (steps > 0) trainGeneration(flow, data, metrics, random, err);
                metrics.flush();
                flow.save(staging);
            }
            install(staging, target);
        } finally {
            deleteQuietly(staging);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
        err.println("Saved the model to " + out);
        err.flush();
        return 0;
    }

    private void trainUnderstanding(LatteFlow flow, TrainingSet data, BufferedWriter metrics, Random random, PrintWriter err) throws IOException {
        int size = flow.config().imageSize();
        List<INDArray> pixels = data.examples().stream().map(e -> Images.toArray(Images.resize(e.image(), size))).toList();
        UnderstandingTrainer trainer = new UnderstandingTrainer(flow.model(), lr);
        Batches batches = new Batches(data.size(), batch, random);
        try (ProgressBar bar = Progress.bar("understanding", understandingSteps, err)) {
            for (int s = 1; s <= understandingSteps; s++) {
                int[] rows = batches.next();
                List<INDArray> imgs = new ArrayList<>();
                List<int[]> prompts = new ArrayList<>(), answers = new ArrayList<>();
                for (int r : rows) {
                    imgs.add(pixels.get(r));
                    prompts.add(flow.questionPrompt(QUESTION));
                    answers.add(flow.answerTokens(data.examples().get(r).caption()));
                }
                long start = System.nanoTime();
                double loss = trainer.step(imgs, prompts, answers);
                record(metrics, s, "understanding", null, loss, start);
                bar.step();
                bar.setExtraMessage(String.format(" loss %.4f", loss));
            }
        }
    }

    private void trainGeneration(LatteFlow flow, TrainingSet data, BufferedWriter metrics, Random random, PrintWriter err) throws IOException {
        int size = flow.config().genImageSize();
        INDArray stacked = Nd4j.stack(0, data.examples().stream()
                .map(e -> Images.toArray(Images.resize(e.image(), size))).toArray(INDArray[]::new));
        INDArray latents = flow.model().codec().encode(stacked);                 // (n, tokens, dim)
        List<INDArray> rowsOf = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) rowsOf.add(latents.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1)).dup());
        List<int[]> contexts = data.captions().stream().map(flow::captionContext).toList();
        GenerationTrainer trainer = new GenerationTrainer(flow.model(), lr, seed, flow.captionContext(""));
        Batches batches = new Batches(data.size(), batch, random);
        try (ProgressBar bar = Progress.bar("generation", steps, err)) {
            for (int s = 1; s <= steps; s++) {
                int[] rows = batches.next();
                List<int[]> ctx = new ArrayList<>();
                INDArray[] x1 = new INDArray[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    ctx.add(contexts.get(rows[i]));
                    x1[i] = rowsOf.get(rows[i]);
                }
                long start = System.nanoTime();
                GenerationTrainer.Step step = trainer.step(ctx, Nd4j.concat(0, x1));
                record(metrics, s, "generation", step.group(), step.loss(), start);
                bar.step();
                bar.setExtraMessage(String.format(" loss %.4f (group %d)", step.loss(), step.group()));
            }
        }
    }

    private static void record(BufferedWriter metrics, int step, String stage, Integer group, double loss, long startNanos) throws IOException {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        if (!Double.isFinite(loss)) {
            throw new IllegalStateException(stage + " training diverged at step " + step + " (loss " + loss + "); try a smaller --lr");
        }
        ObjectNode line = JSON.createObjectNode().put("step", step).put("stage", stage);
        if (group == null) line.putNull("group");
        else line.put("group", group);
        line.put("loss", loss).put("seconds", Math.round(seconds * 1e4) / 1e4);
        metrics.write(JSON.writeValueAsString(line));
        metrics.newLine();
        metrics.flush();
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
        return c;
    }

    private void checkOut() throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) throw new CliError("--out '" + out + "' is a file, not a folder");
        if (Files.isDirectory(out) && !force) {
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent()) {
                    throw new CliError("--out '" + out + "' already holds files; choose another folder or pass --force to replace it");
                }
            }
        }
    }

    /** Moves the finished staging folder to {@code target}, replacing what was there only now. */
    private static void install(Path staging, Path target) throws IOException {
        if (Files.exists(target)) {
            Path old = target.resolveSibling("." + target.getFileName() + ".old-" + ProcessHandle.current().pid());
            Outputs.move(target, old);
            Outputs.move(staging, target);
            Outputs.deleteTree(old);
        } else {
            Files.createDirectories(target.getParent());
            Outputs.move(staging, target);
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            Outputs.deleteTree(dir);
        } catch (IOException ignored) {
            // best effort: a hidden .partial folder may remain
        }
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Epoch-shuffled indices; a batch larger than the data repeats images. */
    private static final class Batches {
        private final int n, size;
        private final Random random;
        private int[] order;
        private int at;

        Batches(int n, int size, Random random) {
            this.n = n;
            this.size = size;
            this.random = random;
            reshuffle();
        }

        int[] next() {
            int[] rows = new int[size];
            for (int i = 0; i < size; i++) {
                if (at == n) reshuffle();
                rows[i] = order[at++];
            }
            return rows;
        }

        private void reshuffle() {
            order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            at = 0;
        }
    }
}
