package io.latteflow.model.data;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

/**
 * LeCun's MNIST handwritten digits: 28x28 grayscale (white digit on black), classes "0".."9", 60 000 training and
 * 10 000 test images. Read from {@code <root>/mnist/} as fetched by {@code ./latte data fetch}.
 *
 * <pre>{@code
 * LabeledImages test = Mnist.load(Path.of("data"), Split.TEST);
 * test.caption(test.label(0));                // "the digit 7"
 * }</pre>
 */
public final class Mnist {
    /** The data root's sub-folder. */
    public static final String FOLDER = "mnist";
    /** Class names by label: the digits themselves. */
    public static final List<String> CLASS_NAMES = IntStream.range(0, 10).mapToObj(Integer::toString).toList();
    /** One caption per class: "the digit 0" .. "the digit 9". */
    public static final List<String> CAPTIONS = CLASS_NAMES.stream().map(d -> "the digit " + d).toList();

    private Mnist() {
    }

    /** The split from {@code <root>/mnist/}; a {@link DataException} if it is missing, incomplete or corrupt. */
    public static LabeledImages load(Path root, Split split) {
        Path dir = new DataRoot(root).require(FOLDER);
        return LabeledImages.readIdxPair(FOLDER, dir, split, CLASS_NAMES, CAPTIONS);
    }

    /** The split from the default data root ({@code $LATTE_DATA}, else {@code ./data}). */
    public static LabeledImages load(Split split) {
        return load(DataRoot.resolve().dir(), split);
    }
}
