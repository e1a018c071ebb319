package io.latteflow.notebook;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.LatteConfig;
import org.dflib.jjava.jupyter.kernel.display.RenderContext;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;

import java.awt.image.BufferedImage;
import java.util.Map;

/**
 * Teaches a jupyter-jvm-basekernel {@link Renderer} how LaTtE-Flow values look: generated images as
 * {@code image/png} (with a caption as the text fallback), grids, answers, progress and model info as HTML, and a
 * {@link LatteConfig} as an HTML table.
 *
 * <pre>{@code
 * LatteRenderers.registerAll(kernel.getRenderer());
 * DisplayData d = kernel.getRenderer().render(flow.generate(GenerationRequest.of("a cat")));
 * }</pre>
 */
public final class LatteRenderers {
    private LatteRenderers() {
    }

    public static void registerAll(Renderer renderer) {
        renderer.createRegistration(GeneratedImage.class).preferring(MIMEType.IMAGE_PNG).supporting(MIMEType.TEXT_PLAIN)
                .register(LatteRenderers::image);
        html(renderer, PromptGrid.class, PromptGrid::toHtml);
        html(renderer, Answer.class, Answer::toHtml);
        html(renderer, SamplingProgress.class, SamplingProgress::toHtml);
        html(renderer, ModelInfo.class, ModelInfo::toHtml);
        html(renderer, LatteConfig.class, ConfigTable::html);
        renderer.createRegistration(LatteSession.LoadedModel.class).preferring(MIMEType.TEXT_PLAIN)
                .register((loaded, context) -> context.getOutputContainer().putText(loaded.toString()));
    }

    private static void image(GeneratedImage img, RenderContext context) {
        BufferedImage picture = img.image();
        // The PNG keeps the model's pixel size; the width metadata only asks the front end to show it larger.
        context.renderIfRequested(MIMEType.IMAGE_PNG, (type, out) -> out.putData(type, Html.base64Png(picture),
                Map.of("width", Html.displaySide(picture), "height", Html.displaySide(picture))));
        // Not the record's toString: that would print the pixel arrays.
        context.getOutputContainer().putText(PromptGrid.caption(img));
    }

    private static <T> void html(Renderer renderer, Class<T> type, java.util.function.Function<T, String> toHtml) {
        renderer.createRegistration(type).preferring(MIMEType.TEXT_HTML).supporting(MIMEType.TEXT_PLAIN)
                .register((value, context) -> {
                    context.renderIfRequested(MIMEType.TEXT_HTML, () -> toHtml.apply(value));
                    context.getOutputContainer().putText(value.toString());
                });
    }
}
