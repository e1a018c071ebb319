package io.latteflow.notebook.rapaio;

import io.latteflow.model.LatteConfig;
import io.latteflow.notebook.LatteMagics;
import io.latteflow.notebook.LatteNotebookException;
import io.latteflow.notebook.LatteSession;
import org.rapaio.jupyter.kernel.display.DisplaySystem;
import org.rapaio.jupyter.kernel.display.spi.DisplayProvider;

import java.util.Optional;

/**
 * What LaTtE-Flow installs in rapaio-jupyter-kernel, which has display providers but no extension or magic SPI:
 * the {@link LatteDisplayProvider} renderers, and the {@code %latte} commands as a {@link LatteMagics} whose
 * generations redraw one live progress display. Called through {@code LatteNotebook.installRapaio()}.
 *
 * <pre>{@code
 * LatteMagics latte = LatteRapaio.install(LatteNotebook.session());
 * GeneratedImage apple = (GeneratedImage) latte.run(List.of("generate", "red apple", "--steps", "12"), null);
 * }</pre>
 */
public final class LatteRapaio {
    private LatteRapaio() {
    }

    /**
     * Makes rapaio render LaTtE-Flow values and returns the commands bound to rapaio's display.
     *
     * @throws LatteNotebookException when rapaio's display system does not find {@link LatteDisplayProvider}
     */
    public static LatteMagics install(LatteSession session) {
        // rapaio re-reads its display providers after %jars and %dependency but not after %classpath, so class
        // folders added last (as in a source checkout) are only seen after this re-read.
        if (!rendersLatteValues()) DisplaySystem.inst().refreshSpiDisplayHandlers();
        if (!rendersLatteValues()) {
            throw new LatteNotebookException("rapaio's display system does not find " + LatteDisplayProvider.class.getName()
                    + " (META-INF/services/" + DisplayProvider.class.getName() + "); add latteflow-notebook with %jars or %dependency");
        }
        // rapaio's Global.eval returns rendered output, not objects, so these commands cannot read notebook
        // variables: %latte ask takes _ (the last image) or a file, and the Java API takes any image.
        return new LatteMagics(session, new RapaioOutput(), name -> Optional.empty());
    }

    /** Whether rapaio currently draws a LaTtE-Flow value with this extension's HTML rather than its toString. */
    public static boolean rendersLatteValues() {
        return DisplaySystem.inst().render(LatteConfig.tiny()).data().containsKey("text/html");
    }
}
