package io.latteflow.model.eval;

import io.latteflow.model.data.Emoji;
import io.latteflow.model.data.EmojiSet;
import io.latteflow.model.data.FashionMnist;
import io.latteflow.model.data.LabeledImages;
import io.latteflow.model.data.Split;
import io.latteflow.model.io.DType;
import io.latteflow.model.io.SafeTensors;
import io.latteflow.model.nn.Net;
import io.latteflow.model.nn.ParamStore;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A small CNN that scores generated images: class probabilities for {@link ClassAccuracy} and
 * {@link InceptionScore}, penultimate-layer features for {@link Fid}. Trained on Fashion-MNIST on a CPU in minutes.
 *
 * <p>Inputs are 28x28 gray in [0, 1]; {@link #predict(List)} and {@link #features(List)} accept images of any size
 * and type (see {@link ClassifierInput}), so 32x32 RGB samples of the generator can be scored directly.
 * Calls are synchronized: one SameDiff graph serves every call.
 *
 * <pre>{@code
 * Classifier c = Classifier.load(Path.of("models/fashion-classifier"));
 * INDArray probs = c.predict(images);          // (n, 10), rows sum to 1
 * INDArray feats = c.features(images);         // (n, 128)
 * double acc = c.accuracy(FashionMnist.load(Split.TEST));
 *
 * // train one: prints progress and the test accuracy, writes config.json and model.safetensors
 * Classifier.trainFashion(Path.of("data"), Path.of("models/fashion-classifier"), 42, 3);
 * }</pre>
 */
public final class Classifier {
    /** Images per inference call; bounds the activations' memory (about 25 MB at 1000). */
    private static final int PREDICT_BATCH = 1000;
    private static final String WEIGHTS = "model.safetensors", CONFIG = "config.json";

    private volatile ClassifierConfig config;      // replaced once, when training adds its report
    private final ParamStore params;
    private final Net net;
    private final SDVariable probs, features, loss;

    private Classifier(ClassifierConfig config, ParamStore params) {
        this.config = config;
        this.params = params;
        this.net = new Net(params);
        SDVariable x = net.input("x", -1, config.channels(), config.side(), config.side());
        SDVariable y = net.input("y", -1, config.classes());
        // Centre the inputs: [0, 1] pixels with a mostly black background would bias every first-layer unit.
        SDVariable h = pool(net.sd.nn.relu(conv(x.mul(2.0).sub(1.0), "conv1"), 0));
        h = pool(net.sd.nn.relu(conv(h, "conv2"), 0));
        if (config.conv3() > 0) h = pool(net.sd.nn.relu(conv(h, "conv3"), 0));
        h = net.sd.reshape(h, -1, config.flat());
        features = net.sd.nn.relu(net.dense(h, "fc", true), 0).rename("features");
        SDVariable logits = net.dense(features, "head", true);
        probs = net.sd.nn.softmax(logits, 1).rename("probs");
        // Log-softmax written out: M2.1 cannot clone LogSoftMax when it builds the gradient (DESIGN-NOTES.md).
        SDVariable z = logits.sub(logits.max(true, 1));
        SDVariable logp = z.sub(net.sd.math.log(net.sd.math.exp(z).sum(true, 1)));
        loss = logp.mul(y).sum(1).mean().neg().rename("loss");
    }

    /** A fresh, untrained classifier: He-normal weights, zero biases. */
    public static Classifier create(ClassifierConfig config, long seed) {
        ParamStore p = new ParamStore(seed);
        // Conv weights are (kh, kw, in, out): M2.1's conv2d backward fails validation for the (out, in, kh, kw) layout.
        p.normal("conv1.weight", Math.sqrt(2.0 / (9 * config.channels())), 3, 3, config.channels(), config.conv1());
        p.zeros("conv1.bias", config.conv1());
        p.normal("conv2.weight", Math.sqrt(2.0 / (9 * config.conv1())), 3, 3, config.conv1(), config.conv2());
        p.zeros("conv2.bias", config.conv2());
        if (config.conv3() > 0) {
            p.normal("conv3.weight", Math.sqrt(2.0 / (9 * config.conv2())), 3, 3, config.conv2(), config.conv3());
            p.zeros("conv3.bias", config.conv3());
        }
        p.normal("fc.weight", Math.sqrt(2.0 / config.flat()), config.hidden(), config.flat());
        p.zeros("fc.bias", config.hidden());
        p.normal("head.weight", Math.sqrt(1.0 / config.hidden()), config.classes(), config.hidden());
        p.zeros("head.bias", config.classes());
        return new Classifier(config, p);
    }

    private SDVariable conv(SDVariable x, String name) {
        Conv2DConfig c = Conv2DConfig.builder().kH(3).kW(3).sH(1).sW(1).paddingMode(PaddingMode.SAME).dataFormat("NCHW").build();
        return net.sd.cnn().conv2d(x, net.p(name + ".weight"), net.p(name + ".bias"), c);
    }

    private SDVariable pool(SDVariable x) {
        Pooling2DConfig c = Pooling2DConfig.builder().kH(2).kW(2).sH(2).sW(2).type(Pooling2D.Pooling2DType.MAX)
                .paddingMode(PaddingMode.VALID).isNHWC(false).build();
        return net.sd.cnn().maxPooling2d(x, c);
    }

    public ClassifierConfig config() {
        return config;
    }

    /** The width of {@link #features}. */
    public int featureSize() {
        return config.hidden();
    }

    // ---------------------------------------------------------------- inference

    /** Class probabilities (n, classes) for images of any size and type. */
    public INDArray predict(List<BufferedImage> images) {
        return predict(ClassifierInput.toArray(images, config.side(), config.channels()));
    }

    /** Class probabilities (n, classes) for FLOAT (n, 1, side, side) or (n, side, side) inputs in [0, 1]. */
    public INDArray predict(INDArray x) {
        return run(x, probs.name());
    }

    /** Penultimate-layer activations (n, {@link #featureSize}) for images of any size and type. */
    public INDArray features(List<BufferedImage> images) {
        return features(ClassifierInput.toArray(images, config.side(), config.channels()));
    }

    /** Penultimate-layer activations (n, {@link #featureSize}) for FLOAT (n, 1, side, side) or (n, side, side). */
    public INDArray features(INDArray x) {
        return run(x, features.name());
    }

    /** The fraction of a labelled set classified correctly. */
    public double accuracy(LabeledImages data) {
        int correct = 0;
        for (int from = 0; from < data.size(); from += PREDICT_BATCH) {
            int to = Math.min(data.size(), from + PREDICT_BATCH);
            int[] predicted = ClassAccuracy.argmax(predict(data.toArray(from, to)));
            for (int i = from; i < to; i++) if (predicted[i - from] == data.label(i)) correct++;
        }
        return data.size() == 0 ? Double.NaN : (double) correct / data.size();
    }

    private synchronized INDArray run(INDArray x, String output) {
        long n = x.size(0);
        if (x.rank() == 3 && config.channels() == 1) x = x.reshape(n, 1, x.size(1), x.size(2));
        if (x.rank() != 4 || x.size(1) != config.channels() || x.size(2) != config.side() || x.size(3) != config.side()) {
            throw new IllegalArgumentException("expected (n, " + config.channels() + ", " + config.side() + ", " + config.side() + ") inputs, got " + java.util.Arrays.toString(x.shape()));
        }
        x = x.castTo(DataType.FLOAT);
        List<INDArray> parts = new ArrayList<>();
        for (long from = 0; from < n; from += PREDICT_BATCH) {
            INDArray chunk = x.get(NDArrayIndex.interval(from, Math.min(n, from + PREDICT_BATCH)), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
            parts.add(net.output(Map.of("x", chunk.dup('c')), output).get(output));
        }
        if (parts.isEmpty()) return Nd4j.create(DataType.FLOAT, 0, output.equals("probs") ? config.classes() : config.hidden());
        return parts.size() == 1 ? parts.get(0) : Nd4j.concat(0, parts.toArray(new INDArray[0]));
    }

    // ---------------------------------------------------------------- training

    /**
     * Trains on {@code data} with Adam, mini-batches in a fresh random order each epoch, and a learning rate that
     * falls linearly to zero over the run (a short run with no tuning gets its last half-percent from the decay).
     * Progress goes to {@code log} (null for none). Returns the mean loss of the last epoch.
     */
    public synchronized double train(LabeledImages data, int epochs, int batch, double learningRate, long seed, PrintStream log) {
        if (data.height() != config.side() || data.width() != config.side() || data.classCount() != config.classes() || config.channels() != 1) {
            throw new IllegalArgumentException(data + " does not fit a " + config.side() + "x" + config.side() + ", " + config.classes() + "-class classifier");
        }
        byte[] pixels = data.pixels();
        float[] x = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) x[i] = (pixels[i] & 0xff) / 255f;
        return train(x, data.labels(), epochs, batch, learningRate, seed, false, log);
    }

    /**
     * Trains on FLOAT images (n * channels * side * side values in [0, 1], row-major) with their labels; with
     * {@code flips} each image is mirrored left-right at random (for classes a mirror does not change). Otherwise as
     * {@link #train(LabeledImages, int, int, double, long, PrintStream)}.
     */
    public synchronized double train(float[] images, int[] labels, int epochs, int batch, double learningRate, long seed, boolean flips, PrintStream log) {
        int per = config.channels() * config.side() * config.side();
        if (images.length != labels.length * per) {
            throw new IllegalArgumentException(images.length + " values are not " + labels.length + " images of " + per);
        }
        for (int label : labels) if (label < 0 || label >= config.classes()) throw new IllegalArgumentException("label " + label + " is not a class of " + config.classes());
        int n = labels.length, perEpoch = n / batch, total = perEpoch * epochs, step = 0;
        Adam adam = new Adam(learningRate);
        Map<String, GradientUpdater<?>> updaters = new LinkedHashMap<>();
        params.all().forEach((name, p) -> updaters.put(name,
                adam.instantiate(Nd4j.zeros(DataType.FLOAT, 1, adam.stateSize(p.length())), true)));
        SplittableRandom random = new SplittableRandom(seed);
        double epochLoss = Double.NaN;
        long start = System.nanoTime();
        for (int epoch = 0; epoch < epochs; epoch++) {
            int[] order = permutation(n, random);
            double sum = 0;
            for (int b = 0; b < perEpoch; b++, step++) {
                adam.setLearningRate(learningRate * (1 - (double) step / total));
                Map<String, INDArray> inputs = batch(images, labels, order, b * batch, batch, flips ? random : null);
                var og = net.gradients(inputs, loss.name(), params.all().keySet());
                sum += og.getOutputs().get(loss.name()).getDouble(0);
                for (var e : og.getGradients().entrySet()) {
                    INDArray update = e.getValue().dup('c');
                    updaters.get(e.getKey()).applyUpdater(update, step, epoch);
                    params.get(e.getKey()).subi(update);
                }
                if (log != null && (b + 1) % 100 == 0) {
                    log.printf("epoch %d step %d/%d loss %.4f (%.0f s)%n", epoch + 1, b + 1, perEpoch, sum / (b + 1), (System.nanoTime() - start) / 1e9);
                }
            }
            epochLoss = sum / perEpoch;
            if (log != null) log.printf("epoch %d done: mean loss %.4f (%.0f s)%n", epoch + 1, epochLoss, (System.nanoTime() - start) / 1e9);
        }
        return epochLoss;
    }

    private Map<String, INDArray> batch(float[] images, int[] labels, int[] order, int from, int size, SplittableRandom flips) {
        int side = config.side(), per = config.channels() * side * side;
        float[] x = new float[size * per];
        float[] y = new float[size * config.classes()];
        for (int k = 0; k < size; k++) {
            int i = order[from + k];
            if (flips != null && flips.nextBoolean()) {
                for (int row = 0; row < per / side; row++) {
                    for (int col = 0; col < side; col++) x[k * per + row * side + col] = images[i * per + row * side + side - 1 - col];
                }
            } else {
                System.arraycopy(images, i * per, x, k * per, per);
            }
            y[k * config.classes() + labels[i]] = 1;        // one-hot: M2.1's gather gradient fails (DESIGN-NOTES.md)
        }
        return Map.of("x", Nd4j.create(x, new long[]{size, config.channels(), side, side}, 'c'),
                "y", Nd4j.create(y, new long[]{size, config.classes()}, 'c'));
    }

    private static int[] permutation(int n, SplittableRandom random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    // ---------------------------------------------------------------- checkpoints

    /** Writes {@code config.json} and {@code model.safetensors} (F32, under 1 MB) into {@code dir}. */
    public synchronized void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        SafeTensors.write(dir.resolve(WEIGHTS), params.all(), DType.F32, Map.of("format", ClassifierConfig.FORMAT));
        config.write(dir.resolve(CONFIG));
    }

    /** Reads a directory written by {@link #save}; every weight must be present with the shape the config implies. */
    public static Classifier load(Path dir) throws IOException {
        if (!Files.isRegularFile(dir.resolve(CONFIG)) || !Files.isRegularFile(dir.resolve(WEIGHTS))) {
            throw new IOException(dir + " is not a classifier directory (needs " + CONFIG + " and " + WEIGHTS
                    + "; make one with Classifier.trainFashion or `java ... io.latteflow.model.eval.Classifier`)");
        }
        ClassifierConfig config = ClassifierConfig.read(dir.resolve(CONFIG));
        Classifier shape = create(config, 0);
        ParamStore loaded = new ParamStore(0);
        try (SafeTensors st = SafeTensors.open(dir.resolve(WEIGHTS))) {
            for (var e : shape.params.all().entrySet()) {
                INDArray w = st.get(e.getKey());      // names a missing tensor in its message
                if (!java.util.Arrays.equals(w.shape(), e.getValue().shape())) {
                    throw new IOException(dir.resolve(WEIGHTS) + ": " + e.getKey() + " has shape " + java.util.Arrays.toString(w.shape())
                            + ", the config implies " + java.util.Arrays.toString(e.getValue().shape()));
                }
                loaded.put(e.getKey(), w);
            }
        }
        return new Classifier(config, loaded);
    }

    // ---------------------------------------------------------------- the shipped model

    /**
     * Trains the shipped classifier on Fashion-MNIST's 60 000 training images (batch 128, Adam 1e-3 decaying to 0),
     * measures it on the 10 000 test images, prints both, and saves it with the result in its config.
     */
    public static Classifier trainFashion(Path dataRoot, Path outDir, long seed, int epochs) throws IOException {
        LabeledImages train = FashionMnist.load(dataRoot, Split.TRAIN), test = FashionMnist.load(dataRoot, Split.TEST);
        Classifier c = create(ClassifierConfig.small(FashionMnist.CLASS_NAMES), seed);
        int batch = 128;
        double lr = 1e-3;
        long start = System.nanoTime();
        c.train(train, epochs, batch, lr, seed, System.out);
        double seconds = (System.nanoTime() - start) / 1e9;
        double accuracy = c.accuracy(test);
        System.out.printf("trained in %.1f s; test accuracy %.4f on %d images%n", seconds, accuracy, test.size());
        c.config = c.config.withReport(new ClassifierConfig.Report(FashionMnist.FOLDER, train.size(), epochs, batch, lr, seed, seconds, accuracy));
        c.save(outDir);
        System.out.println("saved to " + outDir.toAbsolutePath());
        return c;
    }

    /**
     * Trains the emoji judge (issue 20): the category of 64x64 emoji, on the training emoji of both styles (random
     * left-right mirrors; batch 64, Adam 1e-3 decaying to 0), measured on the held-out emoji, whose base emoji it
     * has never seen; saved with that accuracy in its config.
     */
    public static Classifier trainEmoji(Path dataRoot, Path outDir, long seed, int epochs) throws IOException {
        List<Emoji> trainEmoji = EmojiSet.split(dataRoot, EmojiSet.STYLES, false), testEmoji = EmojiSet.split(dataRoot, EmojiSet.STYLES, true);
        List<BufferedImage> train = trainEmoji.stream().map(e -> e.image(64)).toList(), test = testEmoji.stream().map(e -> e.image(64)).toList();
        List<Integer> trainLabels = trainEmoji.stream().map(Emoji::categoryIndex).toList(), testLabels = testEmoji.stream().map(Emoji::categoryIndex).toList();
        Classifier c = create(ClassifierConfig.emoji(EmojiSet.CATEGORIES), seed);
        int batch = 64;
        double lr = 1e-3;
        long start = System.nanoTime();
        float[] x = ClassifierInput.toArray(train, 64, 3).data().asFloat();
        c.train(x, trainLabels.stream().mapToInt(Integer::intValue).toArray(), epochs, batch, lr, seed, true, System.out);
        double seconds = (System.nanoTime() - start) / 1e9;
        int[] predicted = ClassAccuracy.argmax(c.predict(test));
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) if (predicted[i] == testLabels.get(i)) correct++;
        double accuracy = (double) correct / predicted.length;
        System.out.printf("trained in %.1f s; held-out emoji category accuracy %.4f on %d images%n", seconds, accuracy, predicted.length);
        c.config = c.config.withReport(new ClassifierConfig.Report("emoji (google + twitter), category; tested on held-out emoji",
                train.size(), epochs, batch, lr, seed, seconds, accuracy));
        c.save(outDir);
        System.out.println("saved to " + outDir.toAbsolutePath());
        return c;
    }

    /**
     * {@code Classifier [fashion|emoji] [DATA_ROOT [OUT_DIR [SEED [EPOCHS]]]]}; defaults: fashion, {@code $LATTE_DATA}
     * or ./data, models/fashion-classifier (emoji: models/emoji-judge), 42, 3 (emoji: 12).
     */
    public static void main(String[] args) throws IOException {
        boolean emoji = args.length > 0 && args[0].equals("emoji");
        int a = args.length > 0 && (emoji || args[0].equals("fashion")) ? 1 : 0;
        Path data = args.length > a ? Path.of(args[a]) : io.latteflow.model.data.DataRoot.resolve().dir();
        Path out = Path.of(args.length > a + 1 ? args[a + 1] : emoji ? "models/emoji-judge" : "models/fashion-classifier");
        long seed = args.length > a + 2 ? Long.parseLong(args[a + 2]) : 42;
        int epochs = args.length > a + 3 ? Integer.parseInt(args[a + 3]) : emoji ? 12 : 3;
        if (emoji) trainEmoji(data, out, seed, epochs);
        else trainFashion(data, out, seed, epochs);
    }
}
