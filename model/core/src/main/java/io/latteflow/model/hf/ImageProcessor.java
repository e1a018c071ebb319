package io.latteflow.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.vlm.ImagePatches;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Qwen2-VL's image preprocessing ({@code Qwen2VLImageProcessor}): {@link #smartResize} to multiples of
 * patch x merge within [minPixels, maxPixels] keeping the aspect ratio, bicubic resampling, rescale to [0, 1],
 * CLIP normalisation, and patch rows in merge-window order with the still frame repeated over the temporal patch.
 * Any aspect ratio: the number of image tokens follows the image.
 *
 * <p>Resampling is PIL's antialiased bicubic (a = -0.5, support widened by the downscale factor, 8-bit passes with
 * rounding), which is what Hugging Face's PIL backend runs; its default torchvision backend differs by a few 8-bit
 * levels on resized images (measured in {@code Qwen2VlFolderTest}).
 *
 * <pre>{@code
 * ImageProcessor p = ImageProcessor.read(dir, config);   // preprocessor_config.json
 * ImageProcessor.Pixels px = p.process(ImageIO.read(file));
 * int tokens = px.tokens();                              // gridH * gridW / merge^2 image tokens
 * }</pre>
 */
public final class ImageProcessor {
    /** Qwen's model card recommends 1280 * 28 * 28 for memory; it bounds the vision attention on a CPU (see README). */
    public static final long DEFAULT_MAX_PIXELS = 1280L * 28 * 28;
    private static final long DEFAULT_MIN_PIXELS = 56L * 56;

    private final LatteConfig c;
    private final long minPixels, maxPixels;
    private final float[] mean, std;

    public ImageProcessor(LatteConfig c, long minPixels, long maxPixels, float[] mean, float[] std) {
        if (minPixels < 1 || maxPixels < minPixels) {
            throw new IllegalArgumentException("min_pixels " + minPixels + " and max_pixels " + maxPixels + " must satisfy 1 <= min <= max");
        }
        this.c = c;
        this.minPixels = minPixels;
        this.maxPixels = maxPixels;
        this.mean = mean;
        this.std = std;
    }

    /** The processor of {@code dir/preprocessor_config.json} (Hugging Face's defaults where it is absent or silent). */
    public static ImageProcessor read(Path dir, LatteConfig c) throws IOException {
        Path file = dir.resolve("preprocessor_config.json");
        JsonNode root = Files.isRegularFile(file) ? new ObjectMapper().readTree(file.toFile()) : new ObjectMapper().createObjectNode();
        long min = root.path("size").path("shortest_edge").asLong(DEFAULT_MIN_PIXELS);
        long max = root.path("size").path("longest_edge").asLong(28L * 28 * 1280);
        min = root.path("min_pixels").asLong(min);               // the older keys win, as in transformers
        max = root.path("max_pixels").asLong(max);
        int patch = root.path("patch_size").asInt(c.patchSize()), merge = root.path("merge_size").asInt(c.spatialMergeSize());
        int temporal = root.path("temporal_patch_size").asInt(c.temporalPatchSize());
        if (patch != c.patchSize() || merge != c.spatialMergeSize() || temporal != c.temporalPatchSize()) {
            throw new IOException(file + ": patch_size " + patch + ", merge_size " + merge + ", temporal_patch_size " + temporal
                    + " disagree with config.json's vision_config (" + c.patchSize() + ", " + c.spatialMergeSize() + ", " + c.temporalPatchSize() + ")");
        }
        if (root.has("resample") && root.get("resample").asInt() != 3) {
            throw new IOException(file + ": resample " + root.get("resample") + " is not supported (3, bicubic, is Qwen2-VL's)");
        }
        return new ImageProcessor(c, min, max, floats(root.get("image_mean"), ImagePatches.MEAN), floats(root.get("image_std"), ImagePatches.STD));
    }

    private static float[] floats(JsonNode n, float[] otherwise) {
        if (n == null || !n.isArray() || n.size() != 3) return otherwise;
        return new float[]{(float) n.get(0).asDouble(), (float) n.get(1).asDouble(), (float) n.get(2).asDouble()};
    }

    /** A copy that resizes images above {@code pixels} down to it (never above this processor's own maximum). */
    public ImageProcessor withMaxPixels(long pixels) {
        return new ImageProcessor(c, Math.min(minPixels, pixels), Math.min(maxPixels, pixels), mean, std);
    }

    /** One image's patch rows (gridH * gridW, 3*T*p*p) and its patch grid. */
    public record Pixels(float[] patches, int gridH, int gridW, int merge) {
        public int tokens() {
            return gridH * gridW / (merge * merge);
        }
    }

    /** {@code smart_resize}: the (height, width) an image is resampled to. */
    public int[] smartResize(int height, int width) {
        int factor = c.patchSize() * c.spatialMergeSize();
        if (height < 1 || width < 1) throw new IllegalArgumentException("image is empty: " + width + "x" + height);
        if ((double) Math.max(height, width) / Math.min(height, width) > 200) {
            throw new IllegalArgumentException("image of " + width + "x" + height + " has an aspect ratio above 200, which Qwen2-VL refuses");
        }
        long h = (long) Math.rint((double) height / factor) * factor, w = (long) Math.rint((double) width / factor) * factor;
        if (h * w > maxPixels) {
            double beta = Math.sqrt((double) height * width / maxPixels);
            h = Math.max(factor, (long) Math.floor(height / beta / factor) * factor);
            w = Math.max(factor, (long) Math.floor(width / beta / factor) * factor);
        } else if (h * w < minPixels) {
            double beta = Math.sqrt((double) minPixels / ((double) height * width));
            h = (long) Math.ceil(height * beta / factor) * factor;
            w = (long) Math.ceil(width * beta / factor) * factor;
        }
        return new int[]{(int) h, (int) w};
    }

    public Pixels process(BufferedImage image) {
        int[] size = smartResize(image.getHeight(), image.getWidth());
        int h = size[0], w = size[1];
        int[][] rgb = Bicubic.resize(rgbOnWhite(image), image.getWidth(), image.getHeight(), w, h);
        float[] px = new float[3 * h * w];
        for (int ch = 0; ch < 3; ch++)
            for (int i = 0; i < h * w; i++) px[ch * h * w + i] = (rgb[ch][i] * (1f / 255f) - mean[ch]) / std[ch];
        return new Pixels(ImagePatches.flatten(c, px, h, w), h / c.patchSize(), w / c.patchSize(), c.spatialMergeSize());
    }

    /** 8-bit channels of the image, transparent pixels composited on white as Hugging Face's convert_rgb does. */
    private static int[][] rgbOnWhite(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        int[][] out = new int[3][w * h];
        boolean alpha = image.getColorModel().hasAlpha();
        for (int i = 0; i < argb.length; i++) {
            int p = argb[i], a = alpha ? p >>> 24 : 255;
            for (int ch = 0; ch < 3; ch++) {
                int v = (p >> (16 - 8 * ch)) & 0xff;
                out[ch][i] = a == 255 ? v : Math.round((v * a + 255 * (255 - a)) / 255f);
            }
        }
        return out;
    }
}
