package io.latteflow.model.data;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A few emoji side by side, left to right, on a white square of the model's image size, for questions about
 * several objects ("how many emoji?", "what is left of X?"); plus the pixel helpers every emoji image goes through.
 *
 * <pre>{@code
 * Canvas c = Canvas.compose(List.of(apple, dog, car), 32);   // c.image(): 32x32, three 10x10 emoji in a row
 * }</pre>
 *
 * @param items the emoji from left to right
 * @param image the composed TYPE_INT_RGB square
 */
public record Canvas(List<Emoji> items, BufferedImage image) {

    public Canvas {
        items = List.copyOf(items);
    }

    /** Draws {@code items} in one row of equal cells (side {@code size / n}), centred, over white. */
    public static Canvas compose(List<Emoji> items, int size) {
        int n = items.size();
        if (n < 1) throw new IllegalArgumentException("a canvas needs at least one emoji");
        int cell = size / n;
        if (cell < 1) throw new IllegalArgumentException(n + " emoji do not fit side by side on a " + size + "-pixel canvas");
        BufferedImage out = blank(size);
        Graphics2D g = out.createGraphics();
        int x0 = (size - n * cell) / 2, y0 = (size - cell) / 2;
        for (int i = 0; i < n; i++) g.drawImage(items.get(i).image(cell), x0 + i * cell, y0, null);
        g.dispose();
        return new Canvas(items, out);
    }

    /** The number of emoji on the canvas. */
    public int count() {
        return items.size();
    }

    /** Decodes a PNG; a missing or undecodable file is a {@link DataException} naming it. */
    public static BufferedImage read(Path png) {
        if (!Files.isRegularFile(png)) throw DataException.missing(png);
        BufferedImage img;
        try {
            img = javax.imageio.ImageIO.read(png.toFile());
        } catch (IOException | RuntimeException e) {   // ImageIO throws IIOException and, on some truncations, runtime ones
            throw DataException.corrupt(png, "cannot decode the PNG: " + e.getMessage(), e);
        }
        if (img == null) throw DataException.corrupt(png, "not an image ImageIO can read", null);
        return img;
    }

    /**
     * {@code src} composited over white (transparent pixels become white) and resampled to {@code size x size}:
     * area averaging when shrinking, so thin strokes fade instead of vanishing or aliasing; bicubic when enlarging.
     */
    public static BufferedImage flatten(BufferedImage src, int size) {
        if (size < 1) throw new IllegalArgumentException("size must be >= 1, got " + size);
        int w = src.getWidth(), h = src.getHeight();
        int[] argb = src.getRGB(0, 0, w, h, null, 0, w);
        // Compositing before resampling equals averaging premultiplied colours, so edges do not pick up dark fringes
        // from the (arbitrary) colour of fully transparent pixels.
        float[][] rgb = new float[3][w * h];
        for (int i = 0; i < w * h; i++) {
            int p = argb[i];
            float a = (p >>> 24) / 255f;
            for (int c = 0; c < 3; c++) rgb[c][i] = ((p >> (16 - 8 * c)) & 0xff) * a + 255f * (1 - a);
        }
        if (size > w || size > h) return enlarge(toImage(rgb, w, h), size);
        float[][] out = new float[3][];
        for (int c = 0; c < 3; c++) out[c] = areaAverage(rgb[c], w, h, size);
        return toImage(out, size, size);
    }

    /** Separable box filter: each output pixel is the coverage-weighted mean of the source pixels under it. */
    private static float[] areaAverage(float[] src, int w, int h, int size) {
        float[] rows = new float[size * h];                // horizontal pass: size x h
        for (int y = 0; y < h; y++)
            for (int ox = 0; ox < size; ox++) rows[y * size + ox] = box(src, y * w, 1, w, ox, size);
        float[] out = new float[size * size];              // vertical pass: size x size
        for (int x = 0; x < size; x++)
            for (int oy = 0; oy < size; oy++) out[oy * size + x] = box(rows, x, size, h, oy, size);
        return out;
    }

    /** Mean over output cell {@code o} of {@code size} cells spanning {@code n} source samples at start + i * stride. */
    private static float box(float[] v, int start, int stride, int n, int o, int size) {
        double lo = (double) o * n / size, hi = (double) (o + 1) * n / size, sum = 0;
        for (int i = (int) Math.floor(lo); i < Math.min(n, (int) Math.ceil(hi)); i++) {
            double cover = Math.min(hi, i + 1) - Math.max(lo, i);
            if (cover > 0) sum += cover * v[start + i * stride];
        }
        return (float) (sum / (hi - lo));
    }

    private static BufferedImage enlarge(BufferedImage src, int size) {
        BufferedImage out = blank(size);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(src, 0, 0, size, size, null);
        g.dispose();
        return out;
    }

    private static BufferedImage toImage(float[][] rgb, int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] px = new int[w * h];
        for (int i = 0; i < w * h; i++) {
            int p = 0;
            for (int c = 0; c < 3; c++) p = (p << 8) | Math.max(0, Math.min(255, Math.round(rgb[c][i])));
            px[i] = p;
        }
        out.setRGB(0, 0, w, h, px, 0, w);
        return out;
    }

    private static BufferedImage blank(int size) {
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, size, size);
        g.dispose();
        return out;
    }
}
