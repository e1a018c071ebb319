package io.latteflow.model;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A contact sheet: rows of equally sized images, each row optionally labelled on its left, scaled up with nearest
 * neighbour so small samples stay crisp.
 *
 * <pre>{@code
 * BufferedImage sheet = ImageGrid.rows(List.of(sneakers, bags), List.of("sneaker", "bag"), 4);
 * ImageIO.write(sheet, "png", file);
 * }</pre>
 */
public final class ImageGrid {
    private static final int GAP = 2;

    private ImageGrid() {
    }

    /** One row per list; {@code labels} may be null or hold one label per row; pixels are enlarged {@code scale} times. */
    public static BufferedImage rows(List<List<BufferedImage>> rows, List<String> labels, int scale) {
        if (rows.isEmpty() || rows.get(0).isEmpty()) throw new IllegalArgumentException("a grid needs at least one image");
        if (labels != null && labels.size() != rows.size()) throw new IllegalArgumentException(rows.size() + " rows but " + labels.size() + " labels");
        if (scale < 1) throw new IllegalArgumentException("scale must be >= 1, got " + scale);
        int cell = rows.get(0).get(0).getWidth() * scale, columns = rows.stream().mapToInt(List::size).max().orElseThrow();
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(10, Math.min(14, cell / 4)));
        int labelWidth = 0;
        if (labels != null) {
            Graphics2D probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
            FontMetrics fm = probe.getFontMetrics(font);
            for (String l : labels) labelWidth = Math.max(labelWidth, fm.stringWidth(l) + 2 * GAP);
            probe.dispose();
        }
        int width = labelWidth + columns * (cell + GAP) + GAP, height = rows.size() * (cell + GAP) + GAP;
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(font);
        for (int r = 0; r < rows.size(); r++) {
            int y = GAP + r * (cell + GAP);
            if (labels != null) {
                g.setColor(Color.DARK_GRAY);
                g.drawString(labels.get(r), GAP, y + cell / 2 + g.getFontMetrics().getAscent() / 2);
            }
            for (int c = 0; c < rows.get(r).size(); c++) {
                g.drawImage(rows.get(r).get(c), labelWidth + GAP + c * (cell + GAP), y, cell, cell, null);
            }
        }
        g.dispose();
        return out;
    }
}
