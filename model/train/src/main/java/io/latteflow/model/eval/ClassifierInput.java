package io.latteflow.model.eval;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.util.List;

/**
 * Turns images of any size and type into the classifier's input: grayscale, side x side, values in [0, 1].
 *
 * <p>Gray is the Rec. 601 luma of sRGB values (a pixel with r = g = b keeps its value exactly, so the RGB images of
 * {@link io.latteflow.model.data.LabeledImages#image} score exactly like the raw data). TYPE_BYTE_GRAY images are
 * read from their raster, because {@code getRGB} gamma-maps them. Transparent pixels are composited over black, the
 * MNIST background. Other sizes are area-averaged (box filter), which is exact for downscaling 32 to 28 and
 * does not alias.
 *
 * <pre>{@code
 * INDArray x = ClassifierInput.toArray(List.of(generated32x32Rgb), 28);   // (1, 1, 28, 28)
 * }</pre>
 */
public final class ClassifierInput {
    private ClassifierInput() {
    }

    /**
     * The images as FLOAT (n, channels, side, side) in [0, 1]: gray as {@link #toArray(List, int)}, or RGB with
     * transparent pixels composited over white (how emoji are drawn and generated), area-averaged per channel.
     */
    public static INDArray toArray(List<BufferedImage> images, int side, int channels) {
        if (channels == 1) return toArray(images, side);
        if (channels != 3) throw new IllegalArgumentException("channels must be 1 or 3, not " + channels);
        int plane = side * side;
        float[] out = new float[images.size() * 3 * plane];
        for (int i = 0; i < images.size(); i++) {
            BufferedImage img = images.get(i);
            float[] rgb = io.latteflow.model.Images.toArray(img).data().asFloat();
            int w = img.getWidth(), h = img.getHeight();
            for (int c = 0; c < 3; c++) {
                float[] resized = resize(java.util.Arrays.copyOfRange(rgb, c * w * h, (c + 1) * w * h), w, h, side);
                System.arraycopy(resized, 0, out, (i * 3 + c) * plane, plane);
            }
        }
        return Nd4j.create(out, new long[]{images.size(), 3, side, side}, 'c');
    }

    /** The images as FLOAT (n, 1, side, side) in [0, 1]. */
    public static INDArray toArray(List<BufferedImage> images, int side) {
        float[] out = new float[images.size() * side * side];
        for (int i = 0; i < images.size(); i++) {
            float[] g = resize(gray(images.get(i)), images.get(i).getWidth(), images.get(i).getHeight(), side);
            System.arraycopy(g, 0, out, i * side * side, g.length);
        }
        return Nd4j.create(out, new long[]{images.size(), 1, side, side}, 'c');
    }

    /** Row-major gray values in [0, 1] at the image's own size. */
    static float[] gray(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        float[] out = new float[w * h];
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            Raster r = img.getRaster();
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) out[y * w + x] = r.getSample(x, y, 0) / 255f;
            return out;
        }
        boolean alpha = img.getColorModel().hasAlpha();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int argb = img.getRGB(x, y);
                int r = (argb >> 16) & 0xff, g = (argb >> 8) & 0xff, b = argb & 0xff;
                double a = alpha ? ((argb >>> 24) & 0xff) / 255.0 : 1.0;
                // Equal channels take the exact path, so data-set images score bit-for-bit like their raw pixels.
                float v = r == g && g == b ? r / 255f : (float) ((0.299 * r + 0.587 * g + 0.114 * b) / 255.0);
                out[y * w + x] = alpha ? (float) (v * a) : v;
            }
        return out;
    }

    /** Area-average resample of a w x h gray image to side x side; returns the input when the size already fits. */
    static float[] resize(float[] src, int w, int h, int side) {
        if (w == side && h == side) return src;
        double[][] wx = weights(w, side), wy = weights(h, side);
        float[] out = new float[side * side];
        double[] row = new double[w];
        for (int oy = 0; oy < side; oy++) {
            java.util.Arrays.fill(row, 0);
            for (int y = 0; y < h; y++) {
                double f = wy[oy][y];
                if (f == 0) continue;
                for (int x = 0; x < w; x++) row[x] += f * src[y * w + x];
            }
            for (int ox = 0; ox < side; ox++) {
                double v = 0;
                for (int x = 0; x < w; x++) v += wx[ox][x] * row[x];
                out[oy * side + ox] = (float) v;
            }
        }
        return out;
    }

    /** weights[o][i]: the share of output cell o covered by input cell i (each row sums to 1). */
    private static double[][] weights(int in, int out) {
        double[][] wts = new double[out][in];
        double scale = (double) in / out;
        for (int o = 0; o < out; o++) {
            double lo = o * scale, hi = (o + 1) * scale;
            for (int i = (int) Math.floor(lo); i < Math.min(in, (int) Math.ceil(hi)); i++) {
                double overlap = Math.min(hi, i + 1) - Math.max(lo, i);
                if (overlap > 0) wts[o][i] = overlap / scale;
            }
        }
        return wts;
    }
}
