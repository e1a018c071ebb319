package io.latteflow.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.Images;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.LatteWeights;
import io.latteflow.model.Variant;
import io.latteflow.model.data.CaptionedImage;
import io.latteflow.model.data.VqaSample;
import io.latteflow.model.io.DType;
import io.latteflow.model.io.SafeTensors;
import io.latteflow.model.nn.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A resumable training run in one directory: the understanding stage (next-token loss on VQA answers), then the
 * generation stage (per-group flow matching), with a metrics log, a checkpoint every N steps and an EMA of the
 * weights the generation stage trains. Batches, timesteps and noise depend only on the seed and the step, so a
 * run resumed from its checkpoint (after a crash or {@code kill -9}) continues bit-for-bit like an unbroken one
 * and loses at most the steps since the last checkpoint. At the end the directory is a model directory
 * (generation weights replaced by their EMA) with {@code metrics.jsonl} and {@code train.json}.
 *
 * <pre>{@code
 * TrainingRun run = TrainingRun.start(dir, LatteFlow.create(config, 0, tokenizer), plan, "fashion-mnist train");
 * run.train(vqaSamples, captionedImages, listener);
 * }</pre>
 */
public final class TrainingRun {
    public static final String RUN = "run.json", METRICS = "metrics.jsonl", CHECKPOINT = "checkpoint", SUMMARY = "train.json";
    private static final String TRAINER_STATE = "trainer.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What to train: steps per stage, batch, learning rate, seed, checkpoint interval (steps), EMA decay, and
     * snapshot interval (generation steps; 0 = none) for curves over training, and how generation steps pick
     * their expert groups (a run saved before this choice existed trained one group per step, and resumes so).
     */
    public record Plan(int understandingSteps, int generationSteps, int batch, double learningRate, long seed,
                       int checkpointEvery, double emaDecay, int snapshotEvery, GroupSampling groupSampling) {
        public Plan {
            if (groupSampling == null) groupSampling = GroupSampling.PER_STEP;
            if (understandingSteps < 0 || generationSteps < 0) throw new IllegalArgumentException("steps must be >= 0");
            if (understandingSteps + generationSteps == 0) throw new IllegalArgumentException("both stages have 0 steps: nothing to train");
            if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
            if (!(learningRate > 0) || Double.isInfinite(learningRate)) throw new IllegalArgumentException("learning rate must be finite and > 0, got " + learningRate);
            if (checkpointEvery < 1) throw new IllegalArgumentException("checkpoint interval must be >= 1, got " + checkpointEvery);
            if (!(emaDecay >= 0 && emaDecay < 1)) throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + emaDecay);
            if (snapshotEvery < 0) throw new IllegalArgumentException("snapshot interval must be >= 0, got " + snapshotEvery);
        }

        int steps(Stage s) {
            return s == Stage.UNDERSTANDING ? understandingSteps : generationSteps;
        }
    }

    public enum Stage { UNDERSTANDING, GENERATION }

    /** Told about every finished step. */
    public interface Listener {
        void onStep(Stage stage, int step, int total, double loss, Integer group, double seconds);

        /** A stage begins (or resumes at {@code done} of {@code total} steps). */
        default void onStage(Stage stage, int done, int total) {
        }
    }

    private final Path dir;
    private final LatteFlow flow;
    private final Plan plan;
    private final String data;
    private Stage stage;
    private int done;
    private double elapsed;

    private TrainingRun(Path dir, LatteFlow flow, Plan plan, String data, Stage stage, int done, double elapsed) {
        this.dir = dir;
        this.flow = flow;
        this.plan = plan;
        this.data = data;
        this.stage = stage;
        this.done = done;
        this.elapsed = elapsed;
    }

    /**
     * A new run in {@code dir} (created; it must not hold a previous run).
     *
     * @param data a description of the training data; a resume must name the same
     */
    public static TrainingRun start(Path dir, LatteFlow flow, Plan plan, String data) throws IOException {
        if (Files.exists(dir.resolve(RUN))) {
            throw new IOException(dir + " already holds a training run (" + RUN + "); resume it or choose another directory");
        }
        Files.createDirectories(dir);
        ObjectNode run = JSON.createObjectNode();
        run.set("plan", JSON.valueToTree(plan));
        run.put("data", data);
        run.set("config", JSON.valueToTree(flow.config()));
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(RUN).toFile(), run);
        Files.deleteIfExists(dir.resolve(METRICS));
        return new TrainingRun(dir, flow, plan, data, plan.understandingSteps > 0 ? Stage.UNDERSTANDING : Stage.GENERATION, 0, 0);
    }

    /**
     * Reopens the run in {@code dir} at its last checkpoint (or at its start when none was written yet).
     * {@code plan} may raise the step counts; everything else must match the run's.
     */
    public static TrainingRun resume(Path dir, Plan plan, String data) throws IOException {
        Path runFile = dir.resolve(RUN);
        JsonNode run = runFile(dir);
        Plan saved = JSON.treeToValue(run.get("plan"), Plan.class);
        Plan comparable = new Plan(saved.understandingSteps, saved.generationSteps, plan.batch, plan.learningRate, plan.seed,
                plan.checkpointEvery, plan.emaDecay, plan.snapshotEvery, plan.groupSampling);
        if (!comparable.equals(saved)) throw new IOException("Cannot resume " + dir + ": the run was started with " + saved + ", not " + plan);
        if (!run.get("data").asText().equals(data)) {
            throw new IOException("Cannot resume " + dir + ": the run trains on '" + run.get("data").asText() + "', not '" + data + "'");
        }
        if (plan.understandingSteps < saved.understandingSteps || plan.generationSteps < saved.generationSteps) {
            throw new IOException("Cannot resume " + dir + " with fewer steps than it was started with (" + saved + ")");
        }
        Path ckpt = checkpointDir(dir);
        LatteConfig config = JSON.treeToValue(run.get("config"), LatteConfig.class);
        if (ckpt == null && Files.exists(dir.resolve(SUMMARY))) {
            // A finished run deletes its checkpoint (ForceKeepsUsersFilesTest): only its model is left to go on from.
            throw new IOException("Cannot resume " + dir + ": the run has finished (" + SUMMARY + ") and keeps no checkpoint; "
                    + "train its model further as a new run: --init " + dir + " --out ANOTHER_DIR");
        }
        if (ckpt == null) {
            throw new IOException("Cannot resume " + dir + ": no checkpoint was written yet; start it again");
        }
        LatteFlow flow = LatteFlow.load(ckpt);
        if (!flow.config().equals(config)) throw new IOException("Checkpoint in " + ckpt + " has another config than " + runFile);
        Map<String, String> meta;
        try (SafeTensors st = SafeTensors.open(ckpt.resolve(TRAINER_STATE))) {
            meta = st.metadata();
        }
        TrainingRun r = new TrainingRun(dir, flow, plan, data, Stage.valueOf(meta.get("stage")),
                Integer.parseInt(meta.get("step")), Double.parseDouble(meta.get("elapsed")));
        ObjectNode updated = (ObjectNode) run;
        updated.set("plan", JSON.valueToTree(plan));
        JSON.writerWithDefaultPrettyPrinter().writeValue(runFile.toFile(), updated);
        r.truncateMetrics();
        return r;
    }

    /**
     * The model config the run in {@code dir} was started with, from its {@code run.json}: what its training data
     * must be prepared for when it resumes (image sizes), whatever the resuming command's model options say.
     */
    public static LatteConfig savedConfig(Path dir) throws IOException {
        return JSON.treeToValue(runFile(dir).get("config"), LatteConfig.class);
    }

    private static JsonNode runFile(Path dir) throws IOException {
        Path runFile = dir.resolve(RUN);
        if (!Files.exists(runFile)) throw new IOException(dir + " holds no training run to resume (no " + RUN + ")");
        return JSON.readTree(runFile.toFile());
    }

    public LatteFlow flow() {
        return flow;
    }

    /** Runs the remaining steps of every stage and writes the final model; the checkpoint is removed at the end. */
    public void train(List<VqaSample> vqa, List<CaptionedImage> images, Listener listener) throws IOException {
        if (stage == Stage.UNDERSTANDING) {
            if (plan.understandingSteps > 0 && vqa.isEmpty()) throw new IllegalArgumentException("the understanding stage has no VQA samples");
            Adam adam = runUnderstanding(vqa, listener);
            // The generation layers start as copies of the VLM as the understanding stage left it (the paper's init).
            LatteWeights.initGenerationFromVlm(flow.config(), flow.parameters());
            stage = Stage.GENERATION;
            done = 0;
            checkpoint(adam, null);                                               // a kill now keeps the finished stage
        }
        if (plan.generationSteps > 0 && images.isEmpty()) throw new IllegalArgumentException("the generation stage has no images");
        Ema ema = runGeneration(images, listener);
        finish(ema);
    }

    private Adam runUnderstanding(List<VqaSample> vqa, Listener listener) throws IOException {
        UnderstandingTrainer trainer = new UnderstandingTrainer(flow.model(), plan.learningRate);
        restoreState(trainer.adam(), null);
        BatchOrder order = new BatchOrder(vqa.size(), plan.batch, plan.seed);
        int size = flow.config().imageSize(), total = plan.understandingSteps;
        listener.onStage(Stage.UNDERSTANDING, done, total);
        try (BufferedWriter metrics = metricsWriter()) {
            while (done < total) {
                List<INDArray> imgs = new ArrayList<>();
                List<int[]> prompts = new ArrayList<>(), answers = new ArrayList<>();
                for (int r : order.rows(done)) {
                    VqaSample s = vqa.get(r);
                    imgs.add(Images.toArray(Images.resize(s.image(), size)));
                    prompts.add(flow.questionPrompt(s.question()));
                    answers.add(flow.answerTokens(s.answer()));
                }
                long start = System.nanoTime();
                double loss = trainer.step(imgs, prompts, answers);
                afterStep(metrics, listener, loss, null, start, trainer.adam(), null);
            }
        }
        return trainer.adam();
    }

    private Ema runGeneration(List<CaptionedImage> images, Listener listener) throws IOException {
        GenerationTrainer trainer = new GenerationTrainer(flow.model(), plan.learningRate, plan.seed, flow.captionContext(""),
                plan.groupSampling);
        Predicate<String> trained = flow.config().variant() == Variant.BLEND ? n -> true : n -> n.startsWith("gen.");
        Ema ema = new Ema(flow.parameters(), trained, plan.emaDecay);
        restoreState(trainer.adam(), ema);
        trainer.resumeAt(done);
        BatchOrder order = new BatchOrder(images.size(), plan.batch, plan.seed + 1);
        int size = flow.config().genImageSize(), total = plan.generationSteps;
        listener.onStage(Stage.GENERATION, done, total);
        INDArray[] cached = flow.config().pixelCodec() || done >= total ? null : encodeAll(images, size);
        try (BufferedWriter metrics = metricsWriter()) {
            while (done < total) {
                int[] rows = order.rows(done);
                INDArray[] pixels = new INDArray[rows.length];
                List<int[]> contexts = new ArrayList<>();
                for (int i = 0; i < rows.length; i++) {
                    CaptionedImage s = images.get(rows[i]);
                    pixels[i] = cached != null ? cached[rows[i]] : Images.toArray(Images.resize(s.image(), size));
                    contexts.add(flow.captionContext(s.caption()));
                }
                INDArray x1 = cached != null ? Nd4j.stack(0, pixels)                  // (batch, nImg, latentDim)
                        : flow.encodeLatents(Nd4j.stack(0, pixels));
                long start = System.nanoTime();
                GenerationTrainer.Step step = trainer.step(contexts, x1);
                ema.update();
                afterStep(metrics, listener, step.loss(), step.group(), start, trainer.adam(), ema);
                if (plan.snapshotEvery > 0 && done % plan.snapshotEvery == 0 && done < total) {
                    saveModel(dir.resolve("snapshots").resolve("step-" + done), ema, DType.F32);
                }
            }
        }
        return ema;
    }

    /**
     * Every training image's latents, encoded once in fixed chunks of 64 (so a resumed run has the same values): a
     * DC-AE encoder is far slower than a step's share of it is worth (the emoji codec's 14 ms an image would add
     * 0.45 s to every step of batch 32; 6,836 images take 28 MB as latents).
     */
    private INDArray[] encodeAll(List<CaptionedImage> images, int size) {
        INDArray[] out = new INDArray[images.size()];
        for (int from = 0; from < images.size(); from += 64) {
            int to = Math.min(images.size(), from + 64);
            INDArray[] pixels = new INDArray[to - from];
            for (int i = from; i < to; i++) pixels[i - from] = Images.toArray(Images.resize(images.get(i).image(), size));
            INDArray z = flow.encodeLatents(Nd4j.stack(0, pixels));                  // (chunk, nImg, latentDim)
            for (int i = from; i < to; i++) out[i] = z.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i - from)).dup('c');
        }
        return out;
    }

    private void afterStep(BufferedWriter metrics, Listener listener, double loss, Integer group, long startNanos,
                           Adam adam, Ema ema) throws IOException {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        elapsed += seconds;
        done++;
        if (!Double.isFinite(loss)) {
            throw new IllegalStateException(stage.name().toLowerCase() + " training diverged at step " + done + " (loss " + loss
                    + "); the last checkpoint is in " + dir.resolve(CHECKPOINT) + "; try a smaller learning rate");
        }
        ObjectNode line = JSON.createObjectNode().put("stage", stage.name().toLowerCase()).put("step", done);
        if (group == null) line.putNull("group");
        else line.put("group", group);
        line.put("loss", loss).put("seconds", Math.round(seconds * 1e4) / 1e4);
        metrics.write(JSON.writeValueAsString(line));
        metrics.newLine();
        metrics.flush();
        listener.onStep(stage, done, plan.steps(stage), loss, group, seconds);
        if (done % plan.checkpointEvery == 0 && done < plan.steps(stage)) checkpoint(adam, ema);
    }

    /**
     * Writes the checkpoint next to the old one and swaps it in with renames, so a kill at any moment leaves
     * one complete checkpoint ({@code checkpoint}, or {@code checkpoint.old} during the swap).
     */
    private void checkpoint(Adam adam, Ema ema) throws IOException {
        Path partial = dir.resolve(CHECKPOINT + ".partial"), current = dir.resolve(CHECKPOINT), old = dir.resolve(CHECKPOINT + ".old");
        deleteTree(partial);
        flow.save(partial);
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        adam.moments().forEach((n, m) -> tensors.put("adam." + n, m));
        if (ema != null) ema.averaged().forEach((n, a) -> tensors.put("ema." + n, a));
        Map<String, String> meta = new HashMap<>();
        meta.put("stage", stage.name());
        meta.put("step", Integer.toString(done));
        meta.put("elapsed", Double.toString(elapsed));
        meta.put("adam_steps", JSON.writeValueAsString(adam.stepCounts()));
        meta.put("ema_updates", Long.toString(ema == null ? 0 : ema.updates()));
        SafeTensors.write(partial.resolve(TRAINER_STATE), tensors, DType.F32, meta);
        deleteTree(old);
        if (Files.exists(current)) Files.move(current, old);
        Files.move(partial, current);
        deleteTree(old);
    }

    /** Where a run in progress stands: the stage and step of its latest checkpoint. */
    public record CheckpointInfo(Stage stage, int step) {}

    /**
     * Writes the latest checkpoint of a run in progress as a model directory, with the generation weights replaced
     * by their EMA as a finished run saves them, so that a long run can be looked at (or shipped) while it trains.
     *
     * <pre>{@code
     * CheckpointInfo at = TrainingRun.exportCheckpoint(Path.of("runs/emoji"), Path.of("/tmp/emoji-now"), DType.F16);
     * }</pre>
     */
    public static CheckpointInfo exportCheckpoint(Path dir, Path out, DType dtype) throws IOException {
        Path ckpt = checkpointDir(dir);
        if (ckpt == null) throw new IOException("No checkpoint in " + dir + " (a finished run is a model directory already)");
        try (LatteFlow flow = LatteFlow.load(ckpt); SafeTensors st = SafeTensors.open(ckpt.resolve(TRAINER_STATE))) {
            ParamStore params = flow.parameters();
            for (String n : st.names()) {
                if (!n.startsWith("ema.")) continue;
                INDArray average = st.get(n);
                String name = n.substring(4);
                if (!params.has(name) || !Arrays.equals(params.get(name).shape(), average.shape())) {
                    throw new IOException("Checkpoint in " + dir + " does not match its model: EMA tensor " + n);
                }
                params.get(name).assign(average);
            }
            flow.save(out, dtype);
            return new CheckpointInfo(Stage.valueOf(st.metadata().get("stage")), Integer.parseInt(st.metadata().get("step")));
        }
    }

    private static Path checkpointDir(Path dir) {
        for (String name : new String[]{CHECKPOINT, CHECKPOINT + ".old"}) {
            if (Files.exists(dir.resolve(name).resolve(TRAINER_STATE))) return dir.resolve(name);
        }
        return null;
    }

    /** Puts the checkpoint's Adam and EMA state back when the run resumes inside this stage. */
    private void restoreState(Adam adam, Ema ema) throws IOException {
        Path ckpt = checkpointDir(dir);
        if (ckpt == null || done == 0) return;
        try (SafeTensors st = SafeTensors.open(ckpt.resolve(TRAINER_STATE))) {
            if (!st.metadata().get("stage").equals(stage.name())) return;
            Map<String, INDArray> moments = new HashMap<>(), averages = new HashMap<>();
            for (String n : st.names()) {
                if (n.startsWith("adam.")) moments.put(n.substring(5), st.get(n).dup());
                else if (n.startsWith("ema.")) averages.put(n.substring(4), st.get(n).dup());
            }
            Map<String, Integer> counts = new HashMap<>();
            JSON.readTree(st.metadata().get("adam_steps")).fields().forEachRemaining(e -> counts.put(e.getKey(), e.getValue().asInt()));
            adam.restore(moments, counts);
            if (ema != null) ema.restore(averages, Long.parseLong(st.metadata().get("ema_updates")));
        }
    }

    private void finish(Ema ema) throws IOException {
        saveModel(dir, ema, DType.F32);
        ObjectNode summary = JSON.createObjectNode();
        summary.set("plan", JSON.valueToTree(plan));
        summary.put("data", data);
        summary.put("train_seconds", Math.round(elapsed * 10) / 10.0);
        summary.put("ema_updates", ema.updates());
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(SUMMARY).toFile(), summary);
        deleteTree(dir.resolve(CHECKPOINT));
        deleteTree(dir.resolve(CHECKPOINT + ".old"));
    }

    /** The model with the EMA in place of the weights it averages (the live weights are left as they are). */
    private void saveModel(Path target, Ema ema, DType dtype) throws IOException {
        Map<String, INDArray> live = new HashMap<>();
        ParamStore params = flow.parameters();
        ema.averaged().forEach((n, a) -> {
            live.put(n, params.get(n).dup());
            params.get(n).assign(a);
        });
        try {
            flow.save(target, dtype);
        } finally {
            live.forEach((n, w) -> params.get(n).assign(w));
        }
    }

    private BufferedWriter metricsWriter() throws IOException {
        return Files.newBufferedWriter(dir.resolve(METRICS), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Drops log lines of steps after the checkpoint: they will be run (and logged) again. */
    private void truncateMetrics() throws IOException {
        Path file = dir.resolve(METRICS);
        if (!Files.exists(file)) return;
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException torn) {
                break;                                                            // a line cut by the kill
            }
            Stage s = Stage.valueOf(n.get("stage").asText().toUpperCase());
            if (s.ordinal() < stage.ordinal() || (s == stage && n.get("step").asInt() <= done)) kept.add(line);
        }
        Files.write(file, kept, StandardCharsets.UTF_8);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.delete(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
