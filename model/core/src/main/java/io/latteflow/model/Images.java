package io.latteflow.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Conversions between {@link BufferedImage} and the (3, height, width) [0, 1] arrays the model reads.
 *
 * <pre>{@code
 * INDArray x = Images.toArray(Images.resize(ImageIO.read(file), 32));
 * }</pre>
 */
public final class Images {
    private Images() {
    }

    /** RGB values in [0, 1]; transparent pixels are composited over white (emoji and icons have alpha). */
    public static INDArray toArray(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        float[] data = new float[3 * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int argb = img.getRGB(x, y);
                float a = ((argb >>> 24) & 0xff) / 255f;
                if (!img.getColorModel().hasAlpha()) a = 1;
                for (int ch = 0; ch < 3; ch++) {
                    float v = ((argb >> (16 - 8 * ch)) & 0xff) / 255f;
                    data[(ch * h + y) * w + x] = v * a + (1 - a);
                }
            }
        return Nd4j.create(data, new long[]{3, h, w}, 'c');
    }

    public static BufferedImage toBufferedImage(INDArray pixels) {
        long[] s = pixels.shape();
        if (s.length != 3 || s[0] != 3) throw new IllegalArgumentException("Expected (3, h, w) pixels, got " + java.util.Arrays.toString(s));
        int h = (int) s[1], w = (int) s[2];
        float[] data = pixels.dup('c').data().asFloat();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int rgb = 0;
                for (int ch = 0; ch < 3; ch++) {
                    int v = Math.round(Math.max(0, Math.min(1, data[(ch * h + y) * w + x])) * 255);
                    rgb = (rgb << 8) | v;
                }
                img.setRGB(x, y, rgb);
            }
        return img;
    }

    /** A square copy of the given side, bilinear, over white. */
    public static BufferedImage resize(BufferedImage img, int size) {
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, size, size);
        g.drawImage(img, 0, 0, size, size, null);
        g.dispose();
        return out;
    }
}
