package io.latteflow.model.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;

/**
 * A labelled set of grayscale images, stored as uint8 (n, height, width), with its class names and one caption per
 * class. Immutable.
 *
 * <pre>{@code
 * LabeledImages test = FashionMnist.load(Path.of("data"), Split.TEST);
 * int label = test.label(0);                          // 9
 * String name = test.classNames().get(label);         // "ankle boot"
 * BufferedImage img = test.image(0);                  // 28x28 TYPE_INT_RGB, r = g = b = the pixel
 * List<CaptionedImage> pairs = test.captioned();      // ("a photo of an ankle boot", image, 9), ...
 * INDArray x = test.toArray(0, 100);                  // (100, 1, 28, 28) floats in [0, 1]
 * }</pre>
 */
public final class LabeledImages {
    private final String name;
    private final byte[] pixels;
    private final int count, height, width;
    private final int[] labels;
    private final List<String> classNames;
    private final List<String> captions;

    /**
     * @param pixels   uint8 row-major (count, height, width); kept, not copied
     * @param labels   one class index per image, each in [0, classNames.size())
     * @param captions one caption per class
     */
    public LabeledImages(String name, byte[] pixels, int count, int height, int width, int[] labels,
                         List<String> classNames, List<String> captions) {
        if (count < 0 || height <= 0 || width <= 0 || (long) count * height * width != pixels.length) {
            throw new IllegalArgumentException(name + ": " + pixels.length + " pixels do not make " + count + " images of " + height + "x" + width);
        }
        if (labels.length != count) throw new IllegalArgumentException(name + ": " + count + " images but " + labels.length + " labels");
        if (captions.size() != classNames.size()) throw new IllegalArgumentException(name + ": " + classNames.size() + " classes but " + captions.size() + " captions");
        for (int i = 0; i < count; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of image " + i + " is not a class index 0.." + (classNames.size() - 1));
            }
        }
        this.name = name;
        this.pixels = pixels;
        this.count = count;
        this.height = height;
        this.width = width;
        this.labels = labels;
        this.classNames = List.copyOf(classNames);
        this.captions = List.copyOf(captions);
    }

    /**
     * Reads {@code <prefix>-images-idx3-ubyte[.gz]} and {@code <prefix>-labels-idx1-ubyte[.gz]} from {@code dir};
     * the two must agree on the count, and every label must name a class.
     */
    static LabeledImages readIdxPair(String name, Path dir, Split split, List<String> classNames, List<String> captions) {
        Idx images = Idx.read(idxFile(dir, split.filePrefix() + "-images-idx3-ubyte"), 3);
        Idx labels = Idx.read(idxFile(dir, split.filePrefix() + "-labels-idx1-ubyte"), 1);
        int[] d = images.dims();
        if (labels.length() != d[0]) {
            throw DataException.corrupt(labels.file(), labels.length() + " labels for the " + d[0] + " images of " + images.file(), null);
        }
        int[] ints = new int[labels.length()];
        for (int i = 0; i < ints.length; i++) {
            ints[i] = labels.unsigned(i);
            if (ints[i] >= classNames.size()) {
                throw DataException.corrupt(labels.file(), "label " + ints[i] + " at index " + i + " is not a class index 0.." + (classNames.size() - 1), null);
            }
        }
        return new LabeledImages(name + " " + split.name().toLowerCase(), images.bytes(), d[0], d[1], d[2], ints, classNames, captions);
    }

    /** The gzipped file if it is there, else the raw one (the two sets ship one each; accept either). */
    private static Path idxFile(Path dir, String base) {
        Path gz = dir.resolve(base + ".gz");
        return Files.exists(gz) ? gz : dir.resolve(base);
    }

    /** E.g. "fashion-mnist test". */
    public String name() {
        return name;
    }

    public int size() {
        return count;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public List<String> classNames() {
        return classNames;
    }

    public int classCount() {
        return classNames.size();
    }

    public int label(int i) {
        return labels[checkIndex(i)];
    }

    /** A copy of all labels. */
    public int[] labels() {
        return labels.clone();
    }

    /** The caption of a class, e.g. "a photo of a sneaker" or "the digit 7". */
    public String caption(int classIndex) {
        return captions.get(classIndex);
    }

    /** Pixel (y, x) of image i, 0..255 (0 is black). */
    public int pixel(int i, int y, int x) {
        checkIndex(i);
        if (y < 0 || y >= height || x < 0 || x >= width) throw new IndexOutOfBoundsException("pixel (" + y + ", " + x + ") of a " + height + "x" + width + " image");
        return pixels[(i * height + y) * width + x] & 0xff;
    }

    /** A copy of the pixels, uint8 row-major (n, height, width). */
    public byte[] pixels() {
        return pixels.clone();
    }

    /** All images as a UINT8 (n, height, width) array. */
    public INDArray images() {
        return Nd4j.createFromArray(pixels).castTo(DataType.UINT8).reshape('c', count, height, width);
    }

    /** Images [from, to) as FLOAT (to - from, 1, height, width) in [0, 1], the layout a CNN reads. */
    public INDArray toArray(int from, int to) {
        if (from < 0 || to > count || from > to) throw new IndexOutOfBoundsException("[" + from + ", " + to + ") of " + count + " images");
        int per = height * width;
        float[] out = new float[(to - from) * per];
        for (int k = 0; k < out.length; k++) out[k] = (pixels[from * per + k] & 0xff) / 255f;
        return Nd4j.create(out, new long[]{to - from, 1, height, width}, 'c');
    }

    /**
     * Image i as TYPE_INT_RGB with r = g = b = the pixel. Not TYPE_BYTE_GRAY on purpose: Java treats that type's
     * gray as linear light, so {@code getRGB} on it gamma-maps the values (128 reads back as 188), which would
     * silently brighten every image fed through {@code Images.toArray}.
     */
    public BufferedImage image(int i) {
        checkIndex(i);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int base = i * height * width;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) {
                int v = pixels[base + y * width + x] & 0xff;
                img.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        return img;
    }

    /** Image i as TYPE_BYTE_GRAY with the raw values in its raster (read them with the raster, not getRGB; see {@link #image}). */
    public BufferedImage grayImage(int i) {
        checkIndex(i);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, width, height, Arrays.copyOfRange(pixels, i * height * width, (i + 1) * height * width));
        return img;
    }

    /** Every image with its class caption, made on access (the list holds no images, so it costs no memory). */
    public List<CaptionedImage> captioned() {
        return captioned(0, count);
    }

    /** Images [from, to) with their class captions, made on access. */
    public List<CaptionedImage> captioned(int from, int to) {
        if (from < 0 || to > count || from > to) throw new IndexOutOfBoundsException("[" + from + ", " + to + ") of " + count + " images");
        return new AbstractList<>() {
            @Override
            public CaptionedImage get(int k) {
                int i = from + java.util.Objects.checkIndex(k, to - from);
                return new CaptionedImage(captions.get(labels[i]), image(i), labels[i]);
            }

            @Override
            public int size() {
                return to - from;
            }
        };
    }

    /** How many images each class has. */
    public int[] classCounts() {
        int[] counts = new int[classNames.size()];
        for (int l : labels) counts[l]++;
        return counts;
    }

    private int checkIndex(int i) {
        return java.util.Objects.checkIndex(i, count);
    }

    @Override
    public String toString() {
        return name + ": " + count + " images " + height + "x" + width + ", " + classNames.size() + " classes";
    }
}
