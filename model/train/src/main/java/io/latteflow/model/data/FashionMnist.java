package io.latteflow.model.data;

import java.nio.file.Path;
import java.util.List;

/**
 * Zalando's Fashion-MNIST: 28x28 grayscale photos of clothing (light object on black), 10 classes, 60 000 training
 * and 10 000 test images, 6 000 / 1 000 per class. Read from {@code <root>/fashion-mnist/} as fetched by
 * {@code ./latte data fetch}.
 *
 * <pre>{@code
 * LabeledImages train = FashionMnist.load(Split.TRAIN);                       // from $LATTE_DATA or ./data
 * LabeledImages test = FashionMnist.load(Path.of("/data/latte"), Split.TEST);
 * test.captioned().get(0).caption();                                          // "a photo of an ankle boot"
 * }</pre>
 */
public final class FashionMnist {
    /** The data root's sub-folder. */
    public static final String FOLDER = "fashion-mnist";
    /** Class names by label, as the data set's authors name them. */
    public static final List<String> CLASS_NAMES = List.of("t-shirt/top", "trouser", "pullover", "dress", "coat",
            "sandal", "shirt", "sneaker", "bag", "ankle boot");
    /** One caption per class; "t-shirt/top" is spelled out because a slash is not a word a tokenizer knows. */
    public static final List<String> CAPTIONS = List.of("a photo of a t-shirt or top", "a photo of a trouser",
            "a photo of a pullover", "a photo of a dress", "a photo of a coat", "a photo of a sandal",
            "a photo of a shirt", "a photo of a sneaker", "a photo of a bag", "a photo of an ankle boot");

    private FashionMnist() {
    }

    /** The split from {@code <root>/fashion-mnist/}; a {@link DataException} if it is missing, incomplete or corrupt. */
    public static LabeledImages load(Path root, Split split) {
        Path dir = new DataRoot(root).require(FOLDER);
        return LabeledImages.readIdxPair(FOLDER, dir, split, CLASS_NAMES, CAPTIONS);
    }

    /** The split from the default data root ({@code $LATTE_DATA}, else {@code ./data}). */
    public static LabeledImages load(Split split) {
        return load(DataRoot.resolve().dir(), split);
    }
}
