package io.latteflow.notebook;

import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;

/**
 * Teaches a jupyter-jvm-basekernel {@link Renderer} how LaTtE-Flow values look, as {@link LatteDisplays} says:
 * generated images as {@code image/png} (with a caption as the text fallback), grids, answers, progress and model
 * info as HTML, and a {@link io.latteflow.model.LatteConfig} as an HTML table.
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
        for (LatteDisplays.View<?> view : LatteDisplays.VIEWS) register(renderer, view);
    }

    private static <T> void register(Renderer renderer, LatteDisplays.View<T> view) {
        if (view.mime() == null) {
            renderer.createRegistration(view.type()).preferring(MIMEType.TEXT_PLAIN)
                    .register((value, context) -> context.getOutputContainer().putText(view.textOf(value)));
            return;
        }
        MIMEType rich = MIMEType.parse(view.mime());
        renderer.createRegistration(view.type()).preferring(rich).supporting(MIMEType.TEXT_PLAIN)
                .register((value, context) -> {
                    context.renderIfRequested(rich, (type, out) -> {
                        var metadata = view.metadataOf(value);
                        if (metadata.isEmpty()) out.putData(type, view.richData(value));
                        else out.putData(type, view.richData(value), metadata);
                    });
                    context.getOutputContainer().putText(view.textOf(value));
                });
    }
}
