package io.latteflow.notebook;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.LatteConfig;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * How each LaTtE-Flow notebook value looks, independent of any kernel: its rich MIME type and data (PNG for
 * generated images, HTML for grids, answers, progress, model info and configs) and its {@code text/plain}
 * fallback. Each kernel adapter ({@link LatteRenderers} for jupyter-jvm-basekernel,
 * {@code io.latteflow.notebook.rapaio.LatteDisplayProvider} for rapaio) turns these views into its own renderers,
 * so the pictures and tables are the same in every kernel.
 *
 * <pre>{@code
 * LatteDisplays.View<?> view = LatteDisplays.viewOf(image).orElseThrow();
 * String mime = view.mime();                 // "image/png"
 * String base64 = view.richData(image);       // what goes under data["image/png"]
 * }</pre>
 */
public final class LatteDisplays {
    public static final String IMAGE_PNG = "image/png";
    public static final String TEXT_HTML = "text/html";
    public static final String TEXT_PLAIN = "text/plain";

    /** Every value type with a view, most specific first. */
    public static final List<View<?>> VIEWS = List.of(
            new View<>(GeneratedImage.class, IMAGE_PNG, img -> Html.base64Png(img.image()), img -> pngMetadata(img.image()),
                    // Not the record's toString: that would print the pixel arrays.
                    PromptGrid::caption),
            View.html(PromptGrid.class, PromptGrid::toHtml),
            View.html(Answer.class, Answer::toHtml),
            View.html(SamplingProgress.class, SamplingProgress::toHtml),
            View.html(ModelInfo.class, ModelInfo::toHtml),
            View.html(LatteConfig.class, ConfigTable::html),
            new View<>(LatteSession.LoadedModel.class, null, null, v -> Map.of(), Object::toString));

    private LatteDisplays() {
    }

    /** The view for a value, if it is a LaTtE-Flow notebook value. */
    public static Optional<View<?>> viewOf(Object value) {
        if (value == null) return Optional.empty();
        return VIEWS.stream().filter(v -> v.type().isInstance(value)).findFirst();
    }

    /**
     * Metadata for an {@code image/png} output: the PNG keeps the model's pixel size, the width and height only ask
     * the front end to show small samples larger.
     */
    public static Map<String, Object> pngMetadata(BufferedImage picture) {
        return Map.of("width", Html.displaySide(picture), "height", Html.displaySide(picture));
    }

    /**
     * One value type's look.
     *
     * <pre>{@code
     * View<Answer> v = View.html(Answer.class, Answer::toHtml);
     * String html = v.richData(answer);
     * }</pre>
     *
     * @param mime     the rich MIME type, or null when the value is only text
     * @param rich     the rich data (base64 for images, markup for HTML); null when {@code mime} is
     * @param metadata the output metadata for {@code mime}
     * @param text     the {@code text/plain} fallback
     */
    public record View<T>(Class<T> type, String mime, Function<T, String> rich, Function<T, Map<String, Object>> metadata,
                          Function<T, String> text) {

        static <T> View<T> html(Class<T> type, Function<T, String> toHtml) {
            return new View<>(type, TEXT_HTML, toHtml, v -> Map.of(), Object::toString);
        }

        public String richData(Object value) {
            return rich.apply(type.cast(value));
        }

        public Map<String, Object> metadataOf(Object value) {
            return metadata.apply(type.cast(value));
        }

        public String textOf(Object value) {
            return text.apply(type.cast(value));
        }
    }
}
