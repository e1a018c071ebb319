package io.latteflow.notebook;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * What the live display shows while a generation samples: step k of T and the latest estimates of the images.
 *
 * <pre>{@code
 * live.update(new SamplingProgress(List.of("a cat"), 4, 16, previews, 0));
 * }</pre>
 *
 * @param prompts   the prompts being drawn
 * @param step      finished steps
 * @param steps     T
 * @param previews  latest decoded estimates (may be empty before the first preview)
 * @param elapsedMs time since sampling started; shown once the last step is done
 */
public record SamplingProgress(List<String> prompts, int step, int steps, List<BufferedImage> previews, long elapsedMs) {
    public SamplingProgress {
        prompts = List.copyOf(prompts);
        previews = List.copyOf(previews);
    }

    public boolean done() {
        return step == steps;
    }

    public String status() {
        String what = prompts.size() == 1 ? "\"" + prompts.get(0) + "\"" : prompts.size() + " prompts";
        return done() ? "sampled " + what + ": step " + step + " of " + steps + " in " + elapsedMs + " ms"
                : "sampling " + what + ": step " + step + " of " + steps;
    }

    public String toHtml() {
        StringBuilder html = new StringBuilder("<div class=\"latte-progress\"><progress value=\"").append(step).append("\" max=\"")
                .append(steps).append("\"></progress> <code>").append(Html.escape(status())).append("</code>");
        if (!previews.isEmpty()) {
            html.append("<div style=\"display:flex;gap:4px\">");
            for (BufferedImage p : previews) html.append(Html.img(p, 64));
            html.append("</div>");
        }
        return html.append("</div>").toString();
    }

    @Override
    public String toString() {
        return status();
    }
}
