package io.latteflow.notebook;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;

/**
 * The small pieces of HTML the notebook values render to: escaped text and inline PNG images.
 *
 * <pre>{@code
 * String cell = Html.img(image, 96) + "<br>" + Html.escape(prompt);
 * }</pre>
 */
public final class Html {
    /** Smallest on-screen side of an image: model outputs are often 8 to 32 pixels. */
    public static final int MIN_DISPLAY_SIDE = 96;

    private Html() {
    }

    public static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * An inline PNG shown {@code side} pixels wide; the PNG keeps the image's own size and the browser enlarges it
     * without smoothing so small samples stay crisp.
     */
    public static String img(BufferedImage image, int side) {
        return "<img src=\"data:image/png;base64," + base64Png(image) + "\" width=\"" + side + "\" height=\"" + side
                + "\" style=\"image-rendering: pixelated; image-rendering: crisp-edges\">";
    }

    public static int displaySide(BufferedImage image) {
        int side = image.getWidth();
        while (side < MIN_DISPLAY_SIDE) side *= 2;
        return side;
    }

    public static String base64Png(BufferedImage image) {
        return Base64.getEncoder().encodeToString(png(image));
    }

    public static byte[] png(BufferedImage image) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(image, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
