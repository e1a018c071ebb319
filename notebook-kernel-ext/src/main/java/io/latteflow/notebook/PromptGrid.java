package io.latteflow.notebook;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.ImageGrid;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Generated images side by side, each captioned with its prompt and the settings that made it.
 *
 * <pre>{@code
 * PromptGrid grid = session.grid(List.of(GenerationRequest.of("a cat"), GenerationRequest.of("a dog")));
 * BufferedImage sheet = grid.sheet();
 * }</pre>
 */
public record PromptGrid(List<GeneratedImage> images) {
    public PromptGrid {
        if (images.isEmpty()) throw new LatteNotebookException("a grid needs at least one image");
        images = List.copyOf(images);
    }

    public List<BufferedImage> pictures() {
        return images.stream().map(GeneratedImage::image).toList();
    }

    /** One contact sheet image, enlarged 4 times, as {@link ImageGrid} draws it. */
    public BufferedImage sheet() {
        return ImageGrid.rows(List.of(pictures()), null, 4);
    }

    public static String caption(GeneratedImage img) {
        String prompt = img.request().prompt().isEmpty() ? "(unconditional)" : img.request().prompt();
        return String.format(Locale.ROOT, "%s · steps %d · cfg %.1f · seed %d", prompt, img.steps(), img.guidance(), img.request().seed());
    }

    public String toHtml() {
        StringBuilder html = new StringBuilder("<div class=\"latte-grid\" style=\"display:flex;flex-wrap:wrap;gap:8px\">");
        for (GeneratedImage img : images) {
            BufferedImage picture = img.image();
            html.append("<figure style=\"margin:0;text-align:center\">").append(Html.img(picture, Html.displaySide(picture)))
                    .append("<figcaption style=\"font-size:small;max-width:160px\">").append(Html.escape(caption(img)))
                    .append("</figcaption></figure>");
        }
        return html.append("</div>").toString();
    }

    @Override
    public String toString() {
        List<String> lines = new ArrayList<>();
        for (GeneratedImage img : images) lines.add(caption(img));
        return images.size() + " images: " + String.join(" | ", lines);
    }
}
