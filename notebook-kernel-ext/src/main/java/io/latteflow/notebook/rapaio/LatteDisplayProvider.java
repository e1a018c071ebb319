package io.latteflow.notebook.rapaio;

import io.latteflow.notebook.LatteDisplays;
import org.rapaio.jupyter.kernel.display.DisplayData;
import org.rapaio.jupyter.kernel.display.DisplayRenderer;
import org.rapaio.jupyter.kernel.display.DisplayTransformer;
import org.rapaio.jupyter.kernel.display.MimeType;
import org.rapaio.jupyter.kernel.display.spi.DisplayProvider;

import java.util.List;

/**
 * The rapaio-jupyter-kernel display SPI for LaTtE-Flow values: generated images as {@code image/png}, grids,
 * answers, progress, model info and configs as {@code text/html}, each with a {@code text/plain} fallback, exactly
 * as {@link LatteDisplays} draws them. It is listed in
 * {@code META-INF/services/org.rapaio.jupyter.kernel.display.spi.DisplayProvider}; rapaio reads it when the jar
 * comes in with {@code %jars} or {@code %dependency} (or sits on the kernel's class path), and
 * {@link LatteRapaio#install(io.latteflow.notebook.LatteSession)} re-reads it after {@code %classpath}.
 *
 * <pre>{@code
 * DisplayData d = new LatteDisplayProvider().getDisplayRenderers().get(0).render(null, generatedImage);
 * // d.data(): image/png (base64) and text/plain (the caption)
 * }</pre>
 */
public final class LatteDisplayProvider implements DisplayProvider {
    @Override
    public List<DisplayRenderer> getDisplayRenderers() {
        return LatteDisplays.VIEWS.stream().<DisplayRenderer>map(ViewRenderer::new).toList();
    }

    @Override
    public List<DisplayTransformer> getDisplayTransformers() {
        return List.of();
    }

    /** One {@link LatteDisplays.View} as a rapaio renderer; a null or blank MIME type means "the value's best". */
    private record ViewRenderer(LatteDisplays.View<?> view) implements DisplayRenderer {
        @Override
        public Class<?> rendererClass() {
            return view.type();
        }

        @Override
        public boolean canRender(String mime) {
            String wanted = longType(mime);
            return wanted == null || wanted.equals(LatteDisplays.TEXT_PLAIN) || wanted.equals(view.mime());
        }

        @Override
        public DisplayData render(String mime, Object value) {
            String wanted = longType(mime);
            if (!canRender(mime)) throw new IllegalArgumentException("a " + view.type().getSimpleName() + " cannot be shown as " + mime);
            DisplayData out = DisplayData.fromText(view.textOf(value));
            if (view.mime() != null && (wanted == null || wanted.equals(view.mime()))) {
                if (wanted != null) out.data().clear();
                out.putData(view.mime(), view.richData(value));
                if (!view.metadataOf(value).isEmpty()) out.putMetaData(view.mime(), view.metadataOf(value));
            }
            return out;
        }

        /** rapaio accepts short names ("png", "html") as well as MIME types; anything it does not know is no match. */
        private static String longType(String mime) {
            if (mime == null || mime.isBlank()) return null;
            try {
                return MimeType.from(mime.strip(), null).longType();
            } catch (IllegalArgumentException unknown) {
                return mime.strip();
            }
        }
    }
}
