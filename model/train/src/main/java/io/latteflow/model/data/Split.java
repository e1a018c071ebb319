package io.latteflow.model.data;

/**
 * Which half of an MNIST-style data set: the 60 000 training or the 10 000 test images.
 *
 * <pre>{@code
 * LabeledImages test = FashionMnist.load(DataRoot.resolve().dir(), Split.TEST);
 * }</pre>
 */
public enum Split {
    TRAIN("train"),
    TEST("t10k");

    private final String filePrefix;

    Split(String filePrefix) {
        this.filePrefix = filePrefix;
    }

    /** The prefix of the split's IDX files ("train" or "t10k", as in {@code t10k-images-idx3-ubyte}). */
    public String filePrefix() {
        return filePrefix;
    }
}
