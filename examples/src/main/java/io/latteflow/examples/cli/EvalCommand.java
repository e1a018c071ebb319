package io.latteflow.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.ImageGrid;
import io.latteflow.model.Images;
import io.latteflow.model.latent.DcAeCodec;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine.Parameters;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.RequestLimits;
import io.latteflow.model.data.DataException;
import io.latteflow.model.data.DataRoot;
import io.latteflow.model.data.Emoji;
import io.latteflow.model.data.EmojiCaptions;
import io.latteflow.model.data.EmojiQuestions;
import io.latteflow.model.data.EmojiSet;
import io.latteflow.model.data.FashionMnist;
import io.latteflow.model.data.LabeledImages;
import io.latteflow.model.data.Split;
import io.latteflow.model.data.VqaSample;
import io.latteflow.model.eval.ClassAccuracy;
import io.latteflow.model.eval.Classifier;
import io.latteflow.model.eval.ClassifierConfig;
import io.latteflow.model.eval.Fid;
import io.latteflow.model.eval.GenerationQuality;
import io.latteflow.model.eval.VqaAccuracy;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code latte eval fashion|emoji}: the measurements of the results report, printed as one JSON line (and written to
 * {@code --json}). Fashion: FID, Inception Score and class accuracy of generated images in the feature space of the
 * shipped classifier, optionally with the real-image ceiling. Emoji: VQA accuracy per question type on held-out (or
 * training) emoji, and the category the model itself reads off images it drew from held-out captions.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, subcommands = {EvalCommand.Fashion.class, EvalCommand.EmojiEval.class, EvalCommand.CodecEval.class},
        description = "Measure a trained model: 'eval fashion' (FID / IS / class accuracy) or 'eval emoji' (VQA accuracy).")
public final class EvalCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        throw new CliError("eval needs a task: 'fashion', 'emoji' or 'codec'");
    }

    /** Options every evaluation shares. */
    static class Common {
        @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the data sets are. Default: $LATTE_DATA, else ./data.")
        Path dataDir;

        @Option(names = "--batch", paramLabel = "B", defaultValue = "50", description = "Images or questions per model call. Default: ${DEFAULT-VALUE}.")
        int batch;

        @Option(names = "--json", paramLabel = "FILE", description = "Also write the result (indented JSON) to this file.")
        Path json;

        @Option(names = "--tag", paramLabel = "KEY=VALUE",
                description = "Labels stored under \"tags\" in the result, for 'latte results' (e.g. table1=LaTtE Couple, curve=LaTtE, train_step=500).")
        java.util.Map<String, String> tags = new java.util.LinkedHashMap<>();

        Path root() {
            try {
                return dataDir != null ? dataDir : DataRoot.resolve().dir();
            } catch (DataException e) {
                throw new CliError(e.getMessage(), e);
            }
        }

        void emit(ObjectNode result, PrintWriter out) throws IOException {
            ObjectNode t = result.putObject("tags");
            tags.forEach(t::put);
            if (json != null) Outputs.writeAtomically(json, JSON.writeValueAsBytes(result));
            out.println(JSON.copy().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(result));
            out.flush();
        }
    }

    /** How images are drawn: Euler steps and guidance scale, the model's defaults unless given (issue 20: guidance sweeps). */
    static final class Sampling {
        @Option(names = "--steps", paramLabel = "N", description = "Euler steps. Default: the model's.")
        Integer steps;

        @Option(names = "--cfg", paramLabel = "S", description = "Guidance scale. Default: the model's.")
        Double cfg;

        /** Refuses out-of-range values before any model is loaded. */
        void check() {
            String refused = RequestLimits.DEFAULTS.generationRefusal("eval", steps, cfg);       // issue 19: one cap everywhere
            if (refused != null) throw new CliError(ModelOptions.optionOf(refused) + ": " + refused);
        }

        int steps(LatteFlow flow) { return steps != null ? steps : flow.config().defaultSteps(); }

        double cfg(LatteFlow flow) { return cfg != null ? cfg : flow.config().defaultCfg(); }

        /** The request for {@code caption} and {@code seed}, drawn with these settings. */
        GenerationRequest request(LatteFlow flow, String caption, long seed) {
            return GenerationRequest.of(caption).withSteps(steps(flow)).withGuidance(cfg(flow)).withSeed(seed);
        }
    }

    static LatteFlow open(Path dir) {
        Path d = ModelOptions.resolve(dir);
        if (!Files.isDirectory(d)) throw new CliError("No model at '" + dir + "': the directory does not exist");
        try {
            return LatteFlow.load(d);
        } catch (IOException e) {
            throw new CliError("Cannot load the model in '" + d + "': " + e.getMessage(), e);
        }
    }

    @Command(name = "fashion", mixinStandardHelpOptions = true,
            description = "FID, Inception Score and class accuracy of Fashion-MNIST images generated from the class captions.")
    static final class Fashion extends Common implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", paramLabel = "DIR", defaultValue = "models/latte-fashion", description = "Model directory. Default: ${DEFAULT-VALUE}.")
        Path model;

        @Option(names = "--classifier", paramLabel = "DIR", defaultValue = "models/fashion-classifier",
                description = "The feature extractor (trained on the Fashion-MNIST training split). Default: ${DEFAULT-VALUE}.")
        Path classifier;

        @Option(names = "--samples", paramLabel = "N", defaultValue = "10000", description = "Images generated (evenly over the 10 classes). Default: ${DEFAULT-VALUE}.")
        int samples;

        @Mixin
        Sampling sampling;

        @Option(names = "--seed", paramLabel = "K", defaultValue = "0", description = "Seed of image 0 (image i uses seed + i). Default: ${DEFAULT-VALUE}.")
        long seed;

        @Option(names = "--real", description = "Also score the first N training images the same way (the ceiling row).")
        boolean real;

        @Option(names = "--grid", paramLabel = "FILE", description = "Also write a PNG with 8 samples of each class.")
        Path grid;

        @Override
        public Integer call() throws IOException {
            PrintWriter err = spec.commandLine().getErr();
            sampling.check();
            if (!Files.isDirectory(ModelOptions.resolve(model))) throw new CliError("No model at '" + model + "': the directory does not exist");
            Path root = root();
            Classifier judge;
            try {
                judge = Classifier.load(ModelOptions.resolve(classifier));
            } catch (IOException e) {
                throw new CliError("Cannot load the classifier in '" + classifier + "': " + e.getMessage(), e);
            }
            LabeledImages test, train;
            try {
                test = FashionMnist.load(root, Split.TEST);
                train = real ? FashionMnist.load(root, Split.TRAIN) : null;
            } catch (DataException e) {
                throw new CliError(e.getMessage(), e);
            }
            try (LatteFlow flow = open(model)) {
                GenerationQuality.Settings settings;
                try {
                    settings = new GenerationQuality.Settings(samples, sampling.steps(flow), sampling.cfg(flow), batch, seed);
                } catch (IllegalArgumentException e) {
                    throw new CliError(e.getMessage(), e);
                }
                GenerationQuality quality = new GenerationQuality(judge, test);
                GenerationQuality.Result r;
                try (ProgressBar bar = Progress.bar("sampling", samples, " images", err)) {
                    r = quality.generated(flow, settings, bar::stepTo);
                }
                ObjectNode out = JSON.createObjectNode().put("task", "fashion").put("model", model.toString());
                out.put("variant", flow.config().variant().name()).put("groups", flow.config().groups())
                        .put("layers", flow.config().numLayers()).put("residual_attention", flow.config().residualAttention())
                        .put("active_params_per_step", flow.activeParamsPerStep());
                put(out.putObject("generated"), r, test.classNames());
                if (real) put(out.putObject("real"), quality.real(train, samples), test.classNames());
                if (grid != null) writeGrid(flow, settings, test, grid);
                emit(out, spec.commandLine().getOut());
            }
            return 0;
        }

        private static void put(ObjectNode o, GenerationQuality.Result r, List<String> classes) {
            o.put("source", r.source()).put("samples", r.samples()).put("steps", r.steps()).put("guidance", r.guidance())
                    .put("fid", r.fid()).put("inception_score", r.inceptionScore()).put("inception_score_std", r.inceptionScoreStd())
                    .put("class_accuracy", r.classAccuracy()).put("seconds_per_image", r.secondsPerImage());
            ObjectNode per = o.putObject("per_class_accuracy");
            for (int c = 0; c < classes.size(); c++) per.put(classes.get(c), r.perClassAccuracy()[c]);
        }

        private static void writeGrid(LatteFlow flow, GenerationQuality.Settings s, LabeledImages set, Path file) throws IOException {
            List<List<BufferedImage>> rows = new ArrayList<>();
            for (int c = 0; c < set.classCount(); c++) {
                List<GenerationRequest> reqs = new ArrayList<>();
                for (int i = 0; i < 8; i++) reqs.add(new GenerationRequest(set.caption(c), s.steps(), s.guidance(), s.seed() + 1000L * c + i));
                rows.add(flow.generate(reqs).stream().map(GeneratedImage::image).toList());
            }
            writePng(ImageGrid.rows(rows, set.classNames(), 2), file);
        }
    }

    @Command(name = "emoji", mixinStandardHelpOptions = true,
            description = "VQA accuracy per question type on held-out (or training) emoji, and the category the model reads off "
                    + "images it drew from held-out captions.")
    static final class EmojiEval extends Common implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", paramLabel = "DIR", defaultValue = ModelOptions.DEFAULT_MODEL, description = "Model directory. Default: ${DEFAULT-VALUE}.")
        Path model;

        @Option(names = "--split", paramLabel = "held-out|train", defaultValue = "held-out",
                description = "Which emoji the questions are about. Default: ${DEFAULT-VALUE}.")
        String split;

        @Option(names = "--questions", paramLabel = "N", defaultValue = "2000",
                description = "At most this many single-emoji questions, every k-th of the full list (0: none). Default: ${DEFAULT-VALUE}.")
        int questions;

        @Option(names = "--canvases", paramLabel = "N", defaultValue = "100", description = "Canvases (count, left-of, right-of questions) per style. Default: ${DEFAULT-VALUE}.")
        int canvases;

        @Option(names = "--generate", paramLabel = "N", defaultValue = "200",
                description = "Held-out captions drawn and then asked 'which category is this?' (0 skips). Default: ${DEFAULT-VALUE}.")
        int generate;

        @Option(names = "--styles", paramLabel = "S", split = ",", defaultValue = "google,twitter", description = "Emoji styles. Default: ${DEFAULT-VALUE}.")
        List<String> styles;

        @Option(names = "--judge", paramLabel = "DIR", defaultValue = "models/emoji-judge",
                description = "The emoji judge (a category classifier trained on real emoji): reads the category off images drawn from "
                        + "--judged training and held-out captions, and gives FID in its feature space. Default: ${DEFAULT-VALUE}.")
        Path judge;

        @Option(names = "--judged", paramLabel = "N", defaultValue = "500",
                description = "Training and held-out captions drawn for the judge, each (0 skips the judge). Default: ${DEFAULT-VALUE}.")
        int judged;

        @Option(names = "--grid", paramLabel = "FILE",
                description = "Also write a PNG: for 12 emoji of --split, a row with the caption, the real emoji, then 6 images drawn from the caption.")
        Path grid;

        @Mixin
        Sampling sampling;

        @Override
        public Integer call() throws IOException {
            if (!split.equals("held-out") && !split.equals("train")) throw new CliError("--split must be held-out or train, got '" + split + "'");
            if (questions < 0 || canvases < 0 || generate < 0 || judged < 0) throw new CliError("--questions, --canvases, --generate and --judged must be >= 0");
            sampling.check();
            PrintWriter err = spec.commandLine().getErr();
            Path root = root();
            try (LatteFlow flow = open(model)) {
                int size = flow.config().imageSize();
                EmojiQuestions asker = new EmojiQuestions(1, size);
                List<VqaSample> single = new ArrayList<>(), multi = new ArrayList<>();
                List<Emoji> heldOut = new ArrayList<>(), shown = new ArrayList<>();
                for (String style : styles) {
                    EmojiSet set;
                    try {
                        set = EmojiSet.load(root, style);
                    } catch (DataException | IllegalArgumentException e) {
                        throw new CliError(e.getMessage(), e);
                    }
                    List<Emoji> emoji = split.equals("held-out") ? set.heldOut() : set.train();
                    heldOut.addAll(set.heldOut());
                    shown.addAll(emoji);
                    for (Emoji e : emoji) single.addAll(asker.about(e));
                    for (int i = 0; i < canvases; i++) multi.addAll(asker.about(asker.canvas(emoji, i)));
                }
                List<VqaSample> asked = everyKth(single, questions);
                asked.addAll(multi);
                ObjectNode out = JSON.createObjectNode().put("task", "emoji").put("model", model.toString()).put("split", split)
                        .put("steps", sampling.steps(flow)).put("guidance", sampling.cfg(flow));
                if (!asked.isEmpty()) {                                  // --questions 0 --canvases 0: the judge alone
                    VqaAccuracy.Result vqa;
                    try (ProgressBar bar = Progress.bar("questions", asked.size(), " questions", err)) {
                        vqa = VqaAccuracy.of(flow, asked, batch, bar::stepTo);
                    }
                    put(out.putObject("vqa"), vqa);
                }
                if (generate > 0) {
                    List<Emoji> drawn = everyKth(heldOut, generate);
                    EmojiCaptions captions = new EmojiCaptions(0, styles.size() > 1);
                    List<VqaSample> readBack = new ArrayList<>();
                    try (ProgressBar bar = Progress.bar("drawing", drawn.size(), " images", err)) {
                        for (int from = 0; from < drawn.size(); from += batch) {
                            List<Emoji> part = drawn.subList(from, Math.min(drawn.size(), from + batch));
                            List<GenerationRequest> reqs = new ArrayList<>();
                            for (int i = 0; i < part.size(); i++) {
                                reqs.add(sampling.request(flow, captions.caption(part.get(i)), from + i));
                            }
                            List<GeneratedImage> got = flow.generate(reqs);
                            for (int i = 0; i < part.size(); i++) {
                                readBack.add(new VqaSample(Images.resize(got.get(i).image(), size), "which category is this?",
                                        part.get(i).categoryWords(), "generated-category"));
                            }
                            bar.stepTo(from + part.size());
                        }
                    }
                    put(out.putObject("generated"), VqaAccuracy.of(flow, readBack, batch, n -> {}));
                }
                if (judged > 0) judge(flow, root, out.putObject("judge"), err);
                if (grid != null) writeGrid(flow, everyKth(shown, GRID_ROWS), new EmojiCaptions(0, styles.size() > 1), grid);
                emit(out, spec.commandLine().getOut());
            }
            return 0;
        }

        private static final int GRID_ROWS = 12, GRID_SAMPLES = 6;

        /**
         * The judge's reading of images drawn from training and from held-out captions (is the asked category the one
         * it sees?), and the Frechet distance of its features between images drawn from training captions and real
         * training emoji, beside two disjoint sets of real training emoji (the floor at this sample size).
         */
        private void judge(LatteFlow flow, Path root, ObjectNode out, PrintWriter err) throws IOException {
            Classifier c = loadJudge(judge);
            List<Emoji> train = EmojiSet.split(root, styles, false), heldOut = EmojiSet.split(root, styles, true);
            EmojiCaptions captions = new EmojiCaptions(0, styles.size() > 1);
            int side = c.config().side();
            List<BufferedImage> drawnTrain = null;
            for (String which : List.of("train", "held-out")) {
                List<Emoji> asked = everyKth(which.equals("train") ? train : heldOut, judged);
                List<BufferedImage> drawn = new ArrayList<>();
                try (ProgressBar bar = Progress.bar("drawing " + which, asked.size(), " images", err)) {
                    for (int from = 0; from < asked.size(); from += batch) {
                        List<GenerationRequest> reqs = new ArrayList<>();
                        for (int i = from; i < Math.min(asked.size(), from + batch); i++) {
                            reqs.add(sampling.request(flow, captions.caption(asked.get(i)), i));
                        }
                        for (GeneratedImage g : flow.generate(reqs)) drawn.add(g.image());
                        bar.stepTo(drawn.size());
                    }
                }
                int[] wanted = asked.stream().mapToInt(Emoji::categoryIndex).toArray();
                INDArray p = c.predict(drawn);                                       // (images, categories)
                ObjectNode read = out.putObject(which.equals("train") ? "train_captions" : "held_out_captions")
                        .put("samples", drawn.size()).put("category_accuracy", ClassAccuracy.of(p, wanted));
                // which categories the drawings fail in (issue 20: where a miss of the target comes from)
                double[] per = ClassAccuracy.perClass(p, wanted);
                ObjectNode by = read.putObject("by_category");
                for (int k = 0; k < per.length; k++) {
                    int category = k;
                    long n = java.util.Arrays.stream(wanted).filter(w -> w == category).count();
                    if (n > 0) by.putObject(c.config().classNames().get(k)).put("accuracy", per[k]).put("asked", n);
                }
                if (which.equals("train")) drawnTrain = drawn;
            }
            // real sets of the same size, disjoint from each other: every k-th training emoji, shifted by half a step
            List<Emoji> realA = everyKth(train, judged), realB = new ArrayList<>();
            int k = Math.max(1, train.size() / Math.max(1, judged));
            for (int i = k / 2; i < train.size() && realB.size() < judged; i += k) if (!realA.contains(train.get(i))) realB.add(train.get(i));
            List<BufferedImage> a = realA.stream().map(e -> e.image(side)).toList(), b = realB.stream().map(e -> e.image(side)).toList();
            // The Frechet distance needs more images than features (256) for full-rank covariances; with fewer it is
            // left out rather than computed from singular matrices (the eigen decomposition does not converge).
            if (Math.min(drawnTrain.size(), Math.min(a.size(), b.size())) > c.featureSize()) {
                out.put("fid_drawn_vs_real", Fid.distance(c, drawnTrain, b)).put("fid_real_vs_real", Fid.distance(c, a, b));
            } else {
                out.putNull("fid_drawn_vs_real").putNull("fid_real_vs_real")
                        .put("fid_note", "FID needs more than " + c.featureSize() + " images a side; --judged " + judged + " gives fewer");
            }
            out.put("judge_held_out_accuracy", c.config().report().map(ClassifierConfig.Report::testAccuracy).orElse(Double.NaN))
                    .put("real_training_category_accuracy", ClassAccuracy.of(c, a,
                            realA.stream().mapToInt(Emoji::categoryIndex).toArray()));
        }

        /** A row per emoji: its caption, the real picture at the generated size, then samples of seeds 0 to 5. */
        private void writeGrid(LatteFlow flow, List<Emoji> emoji, EmojiCaptions captions, Path file) throws IOException {
            int size = flow.config().genImageSize();
            List<GenerationRequest> reqs = new ArrayList<>();
            for (Emoji e : emoji) {
                for (int s = 0; s < GRID_SAMPLES; s++) reqs.add(sampling.request(flow, captions.caption(e), s));
            }
            List<GeneratedImage> got = flow.generate(reqs);   // (emoji x seeds) in one batch
            List<List<BufferedImage>> rows = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            for (int i = 0; i < emoji.size(); i++) {
                List<BufferedImage> row = new ArrayList<>(List.of(emoji.get(i).image(size)));
                for (int s = 0; s < GRID_SAMPLES; s++) row.add(got.get(i * GRID_SAMPLES + s).image());
                rows.add(row);
                labels.add(captions.caption(emoji.get(i)));
            }
            writePng(ImageGrid.rows(rows, labels, 3), file);
        }

        private static void put(ObjectNode o, VqaAccuracy.Result r) {
            o.put("accuracy", r.overall().accuracy()).put("asked", r.overall().asked());
            ObjectNode by = o.putObject("by_type");
            r.byType().forEach((t, s) -> by.putObject(t).put("accuracy", s.accuracy()).put("asked", s.asked()));
            var m = o.putArray("mistakes");
            for (String[] x : r.mistakes()) m.addObject().put("question", x[0]).put("expected", x[1]).put("got", x[2]);
        }
    }

    @Command(name = "codec", mixinStandardHelpOptions = true,
            description = "Reconstruction quality of DC-AE folders on the held-out emoji: PSNR, and the judge's category accuracy "
                    + "on the reconstructions beside its accuracy on the real images.")
    static final class CodecEval extends Common implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DIR", arity = "1..*", description = "DC-AE folders (diffusers or efficientvit layout).")
        List<Path> codecs;

        @Option(names = "--size", paramLabel = "PIXELS", defaultValue = "64", description = "Image side. Default: ${DEFAULT-VALUE}.")
        int size;

        @Option(names = "--judge", paramLabel = "DIR", defaultValue = "models/emoji-judge", description = "The emoji judge. Default: ${DEFAULT-VALUE}.")
        Path judge;

        @Override
        public Integer call() throws IOException {
            if (size < 1 || size > 1024) throw new CliError("--size must be from 1 to 1024, got " + size);
            List<DcAeCodec> loaded = new ArrayList<>();
            for (Path c : codecs) {
                try {
                    loaded.add(DcAeCodec.load(ModelOptions.resolve(c), size));        // every folder checked before any work
                } catch (IOException | IllegalArgumentException e) {
                    throw new CliError("Cannot load the codec in '" + c + "': " + e.getMessage(), e);
                }
            }
            Classifier c = loadJudge(judge);
            List<Emoji> heldOut;
            try {
                heldOut = EmojiSet.split(root(), EmojiSet.STYLES, true);
            } catch (DataException e) {
                throw new CliError(e.getMessage(), e);
            }
            List<BufferedImage> real = heldOut.stream().map(e -> e.image(size)).toList();
            int[] labels = heldOut.stream().mapToInt(Emoji::categoryIndex).toArray();
            int per = 3 * size * size;
            float[] pixels = new float[real.size() * per];
            for (int i = 0; i < real.size(); i++) System.arraycopy(Images.toArray(real.get(i)).data().asFloat(), 0, pixels, i * per, per);
            ObjectNode out = JSON.createObjectNode().put("task", "codec").put("images", real.size()).put("size", size)
                    .put("judge_real_category_accuracy", ClassAccuracy.of(c, real, labels));
            var rows = out.putArray("codecs");
            for (int k = 0; k < loaded.size(); k++) {
                DcAeCodec codec = loaded.get(k);
                List<BufferedImage> back = new ArrayList<>();
                for (int from = 0; from < real.size(); from += batch) {
                    int to = Math.min(real.size(), from + batch);
                    INDArray x = Nd4j.create(java.util.Arrays.copyOfRange(pixels, from * per, to * per), new long[] {to - from, 3, size, size}, 'c');
                    INDArray y = codec.decode(codec.encode(x));
                    for (int i = 0; i < to - from; i++) back.add(Images.toBufferedImage(y.get(NDArrayIndex.point(i)).dup()));
                }
                rows.addObject().put("codec", codecs.get(k).toString()).put("spatial_factor", codec.config().spatialFactor())
                        .put("latent_channels", codec.config().latentChannels())
                        .put("psnr_db", io.latteflow.model.train.CodecTrainer.psnr(codec, pixels))
                        .put("judge_category_accuracy", ClassAccuracy.of(c, back, labels));
            }
            emit(out, spec.commandLine().getOut());
            return 0;
        }
    }

    static Classifier loadJudge(Path judge) {
        try {
            return Classifier.load(ModelOptions.resolve(judge));
        } catch (IOException e) {
            throw new CliError("Cannot load the emoji judge in '" + judge + "': " + e.getMessage(), e);
        }
    }

    /** At most {@code n} items spread evenly over {@code all} (every k-th), in order. */
    static <T> List<T> everyKth(List<T> all, int n) {
        if (all.size() <= n) return new ArrayList<>(all);
        List<T> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(all.get((int) ((long) i * all.size() / n)));
        return out;
    }

    static void writePng(BufferedImage image, Path file) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", bytes)) throw new UncheckedIOException(new IOException("no PNG writer"));
        Outputs.writeAtomically(file, bytes.toByteArray());
    }
}
