package io.latteflow.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.Images;
import io.latteflow.model.io.DType;
import io.latteflow.model.io.SafeTensors;
import io.latteflow.model.latent.DcAeCodec;
import io.latteflow.model.latent.DcAeConfig;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains a DC-AE ({@link DcAeCodec}) on a set of images: Adam on the reconstruction loss, random horizontal flips,
 * batches and flips drawn from the seed and the step only, so a run stopped at any checkpoint and resumed ends as an
 * unbroken run would. At the end the scaling factor is set to 1 / the standard deviation of the training images'
 * latents (as DC-AE's published factors are: unit-variance latents for the flow-matching model that uses them) and
 * the codec is saved as a diffusers folder.
 *
 * <pre>{@code
 * CodecTrainer t = new CodecTrainer(DcAeConfig..., 64, images, heldOut, new CodecTrainer.Options(4000, 32, 1e-3, 0, 250));
 * t.run(Path.of("runs/codec"), new PrintWriter(System.err, true));          // or resume the same folder after a stop
 * }</pre>
 *
 * <p>The run folder holds {@code codec/} (the latest checkpoint's weights, a loadable DC-AE folder),
 * {@code adam.safetensors}, {@code state.json}, {@code metrics.jsonl} (one line per step: loss, seconds) and, at the
 * end, {@code report.json} (held-out PSNR, scaling factor). The finished codec is {@code codec/}.
 */
public final class CodecTrainer {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Images per encoder call when measuring (bounds the activations, about 0.4 GB at 64x64 for the emoji codec). */
    private static final int EVAL_BATCH = 64;

    /**
     * @param steps           optimizer steps
     * @param batch           images per step
     * @param learningRate    Adam's rate; held for the first 70% of the steps, then falling linearly to a tenth
     * @param seed            initialisation, batches and flips
     * @param checkpointEvery steps between checkpoints
     */
    public record Options(int steps, int batch, double learningRate, long seed, int checkpointEvery) {
        public Options {
            if (steps < 1 || batch < 1 || checkpointEvery < 1) throw new IllegalArgumentException("steps, batch and checkpointEvery must be >= 1");
            if (!(learningRate > 0) || !Double.isFinite(learningRate)) throw new IllegalArgumentException("learning rate must be a finite number > 0, got " + learningRate);
        }

        double rate(int step) {
            double decayFrom = 0.7 * steps;
            return step < decayFrom ? learningRate : learningRate * (1 - 0.9 * (step - decayFrom) / (steps - decayFrom));
        }
    }

    private final DcAeConfig config;
    private final int size;
    private final float[] train;         // (n, 3, size, size) in [0, 1]
    private final float[] heldOut;
    private final Options options;

    public CodecTrainer(DcAeConfig config, int size, List<BufferedImage> train, List<BufferedImage> heldOut, Options options) {
        if (train.isEmpty()) throw new IllegalArgumentException("no training images");
        this.config = config;
        this.size = size;
        this.train = pixels(train, size);
        this.heldOut = pixels(heldOut, size);
        this.options = options;
    }

    private static float[] pixels(List<BufferedImage> images, int size) {
        int per = 3 * size * size;
        float[] out = new float[images.size() * per];
        for (int i = 0; i < images.size(); i++) {
            BufferedImage img = images.get(i);
            if (img.getWidth() != size || img.getHeight() != size) {
                throw new IllegalArgumentException("image " + i + " is " + img.getWidth() + "x" + img.getHeight() + ", not " + size + "x" + size);
            }
            System.arraycopy(Images.toArray(img).data().asFloat(), 0, out, i * per, per);
        }
        return out;
    }

    /** Trains in {@code dir} (resuming from its checkpoint if it has one) and returns the report. */
    public ObjectNode run(Path dir, PrintWriter log) throws IOException {
        return run(dir, log, options.steps());
    }

    /**
     * What decides the run's result besides the step, kept in {@code state.json}: the learning rate's schedule hangs
     * on the step count, batches and mirrors on the seed. A resume with other settings would not end as the run it
     * continues (as {@code latte train --resume} did with another image size, issue 20), so it is refused.
     */
    private ObjectNode settings() {
        ObjectNode s = JSON.createObjectNode().put("image_size", size).put("steps", options.steps()).put("batch", options.batch())
                .put("learning_rate", options.learningRate()).put("seed", options.seed()).put("training_images", train.length / (3 * size * size));
        s.set("architecture", config.withScalingFactor(1).toDiffusers());
        return s;
    }

    /** Refuses to resume with settings other than the run's; state files from before the settings were kept pass. */
    private void requireSameSettings(Path dir, JsonNode saved) throws IOException {
        if (saved == null) return;
        JsonNode now = JSON.readTree(JSON.writeValueAsString(settings()));      // numbers typed as read back (7, not 7L)
        List<String> differ = new java.util.ArrayList<>();
        saved.fieldNames().forEachRemaining(k -> {
            if (!saved.get(k).equals(now.get(k))) differ.add(k.equals("architecture") ? "another architecture" : k + " " + saved.get(k) + " (not " + now.get(k) + ")");
        });
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException("Cannot resume the codec run in " + dir + ": it was started with " + String.join(", ", differ)
                    + "; resume it with its own settings, or start another run in another folder");
        }
    }

    /** As {@link #run(Path, PrintWriter)}, but returns null after the checkpoint at {@code stopAt} (a stop, for tests). */
    ObjectNode run(Path dir, PrintWriter log, int stopAt) throws IOException {
        Files.createDirectories(dir);
        Path codecDir = dir.resolve("codec"), state = dir.resolve("state.json"), metrics = dir.resolve("metrics.jsonl");
        DcAeCodec codec;
        int start;
        Adam adam;
        if (Files.isRegularFile(state)) {
            JsonNode saved = JSON.readTree(state.toFile());
            requireSameSettings(dir, saved.get("settings"));
            start = saved.get("step").asInt();
            codec = DcAeCodec.load(codecDir, size);
            adam = new Adam(codec.weights(), options.learningRate());
            try (SafeTensors st = SafeTensors.open(dir.resolve("adam.safetensors"))) {
                Map<String, INDArray> moments = new HashMap<>();
                Map<String, Integer> counts = new HashMap<>();
                for (String name : st.names()) {
                    moments.put(name, st.get(name));
                    counts.put(name, start);
                }
                adam.restore(moments, counts);
            }
            truncate(metrics, start);
            log.printf("Resuming the codec run in %s at step %d of %d.%n", dir, start, options.steps());
        } else {
            start = 0;
            codec = DcAeCodec.create(config, size, options.seed());
            adam = new Adam(codec.weights(), options.learningRate());
            Files.deleteIfExists(metrics);
            log.printf("Training a DC-AE (f%d, %d latent channels, %,d weights) on %d images of %dx%d.%n", config.spatialFactor(),
                    config.latentChannels(), codec.weights().count(n -> true), train.length / (3 * size * size), size, size);
            log.flush();
        }
        int per = 3 * size * size, n = train.length / per;
        for (int step = start; step < options.steps(); step++) {
            long t0 = System.nanoTime();
            INDArray batch = batch(step, n, per);
            adam.setLearningRate(options.rate(step));
            OutAndGrad og = codec.reconstruction(batch);
            double loss = og.getOutputs().values().iterator().next().getDouble(0);
            if (!Double.isFinite(loss)) throw new IllegalStateException("the loss is " + loss + " at step " + step + "; lower the learning rate");
            adam.step(og.getGradients());
            double seconds = (System.nanoTime() - t0) / 1e9;
            Files.writeString(metrics, String.format("{\"step\":%d,\"loss\":%.6f,\"lr\":%.3g,\"seconds\":%.3f}%n", step + 1, loss, options.rate(step), seconds),
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            if ((step + 1) % 25 == 0) {
                log.printf("step %d/%d loss %.4f (%.2f s/step)%n", step + 1, options.steps(), loss, seconds);
                log.flush();
            }
            if ((step + 1) % options.checkpointEvery() == 0 || step + 1 == options.steps()) checkpoint(dir, codec, adam, step + 1);
            if (step + 1 == stopAt && stopAt < options.steps()) return null;
        }
        double factor = 1 / latentStd(codec);
        codec.save(codecDir, factor);
        double psnr = psnr(codec.withScaling(factor), heldOut), trainPsnr = psnr(codec.withScaling(factor), sample(train, per, Math.min(n, 512)));
        ObjectNode report = JSON.createObjectNode();
        report.put("steps", options.steps()).put("batch", options.batch()).put("learning_rate", options.learningRate()).put("seed", options.seed())
                .put("image_size", size).put("training_images", n).put("held_out_images", heldOut.length / per)
                .put("scaling_factor", factor).put("psnr_held_out", psnr).put("psnr_train", trainPsnr)
                .put("step_seconds", sumSeconds(metrics));
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("report.json").toFile(), report);
        log.printf("Held-out PSNR %.2f dB (training images %.2f dB), scaling factor %.4f; saved %s%n", psnr, trainPsnr, factor, codecDir);
        return report;
    }

    /** Images {@code step}'s batch draws: indices and flips from (seed, step) alone. */
    private INDArray batch(int step, int n, int per) {
        SplittableRandom random = new SplittableRandom(options.seed() * 0x9E3779B97F4A7C15L + step);
        float[] x = new float[options.batch() * per];
        int plane = size * size;
        for (int k = 0; k < options.batch(); k++) {
            int i = random.nextInt(n);
            boolean flip = random.nextBoolean();
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < size; y++) {
                    int src = i * per + c * plane + y * size, dst = k * per + c * plane + y * size;
                    if (!flip) {
                        System.arraycopy(train, src, x, dst, size);
                    } else {
                        for (int xx = 0; xx < size; xx++) x[dst + xx] = train[src + size - 1 - xx];
                    }
                }
            }
        }
        return Nd4j.create(x, new long[] {options.batch(), 3, size, size}, 'c');
    }

    private void checkpoint(Path dir, DcAeCodec codec, Adam adam, int step) throws IOException {
        // each file written beside and moved over the old one: a kill leaves the previous checkpoint or this one
        Path tmp = dir.resolve("codec.tmp");
        codec.save(tmp, config.scalingFactor());
        Path codecDir = dir.resolve("codec");
        Files.createDirectories(codecDir);
        for (String f : List.of("config.json", DcAeCodec.DIFFUSERS_WEIGHTS)) {
            Files.move(tmp.resolve(f), codecDir.resolve(f), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.delete(tmp);
        Path adamTmp = dir.resolve("adam.safetensors.tmp");
        SafeTensors.write(adamTmp, adam.moments(), DType.F32, Map.of());
        Files.move(adamTmp, dir.resolve("adam.safetensors"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Path stateTmp = dir.resolve("state.json.tmp");
        Files.writeString(stateTmp, JSON.writeValueAsString(JSON.createObjectNode().put("step", step).set("settings", settings())) + "\n");
        Files.move(stateTmp, dir.resolve("state.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private double latentStd(DcAeCodec codec) {
        int per = 3 * size * size;
        float[] sample = sample(train, per, Math.min(train.length / per, 1024));
        double sum = 0, sq = 0;
        long count = 0;
        for (INDArray chunk : chunks(sample)) {
            INDArray z = codec.encodeLatents(chunk.mul(2).subi(1));
            sum += z.sumNumber().doubleValue();
            sq += z.mul(z).sumNumber().doubleValue();
            count += z.length();
        }
        double mean = sum / count;
        return Math.sqrt(sq / count - mean * mean);
    }

    /** Peak signal-to-noise ratio in dB over all images, pixels in [0, 1], after encoding and decoding. */
    public static double psnr(DcAeCodec codec, float[] images) {
        int size = codec.imageSize(), per = 3 * size * size;
        double se = 0;
        long count = 0;
        for (int from = 0; from < images.length / per; from += EVAL_BATCH) {
            int to = Math.min(images.length / per, from + EVAL_BATCH);
            float[] part = java.util.Arrays.copyOfRange(images, from * per, to * per);
            INDArray x = Nd4j.create(part, new long[] {to - from, 3, size, size}, 'c');
            INDArray y = codec.decode(codec.encode(x));
            INDArray d = y.sub(x);
            se += d.mul(d).sumNumber().doubleValue();
            count += d.length();
        }
        return 10 * Math.log10(1 / (se / count));
    }

    private List<INDArray> chunks(float[] images) {
        int per = 3 * size * size, n = images.length / per;
        List<INDArray> out = new java.util.ArrayList<>();
        for (int from = 0; from < n; from += EVAL_BATCH) {
            int to = Math.min(n, from + EVAL_BATCH);
            out.add(Nd4j.create(java.util.Arrays.copyOfRange(images, from * per, to * per), new long[] {to - from, 3, size, size}, 'c'));
        }
        return out;
    }

    /** The first {@code count} images of a seeded shuffle: the same sample every time. */
    private static float[] sample(float[] images, int per, int count) {
        int n = images.length / per;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom random = new SplittableRandom(7);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        float[] out = new float[count * per];
        for (int k = 0; k < count; k++) System.arraycopy(images, order[k] * per, out, k * per, per);
        return out;
    }

    private static void truncate(Path metrics, int steps) throws IOException {
        if (!Files.isRegularFile(metrics)) return;
        List<String> lines = Files.readAllLines(metrics);
        Files.write(metrics, lines.subList(0, Math.min(steps, lines.size())));
    }

    private static double sumSeconds(Path metrics) throws IOException {
        double total = 0;
        for (String line : Files.readAllLines(metrics)) total += JSON.readTree(line).get("seconds").asDouble();
        return total;
    }
}
