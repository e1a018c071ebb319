package io.latteflow.notebook;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.latteflow.notebook.ExecutedNotebooks.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs examples/notebooks/latte-tour-rapaio.ipynb through a real Jupyter client (nbconvert/nbclient) on the real
 * rapaio-jupyter-kernel jar from Maven Central, started bare, exactly as {@code LATTE_KERNEL=rapaio
 * examples/notebooks/run-headless.sh} does: the notebook adds the extension with %classpath / %jars, installs it with
 * {@code LatteNotebook.installRapaio()} and uses the plain Java API; rapaio draws the values through
 * {@code LatteDisplayProvider}.
 */
class NotebookOnRapaioKernelITCase {
    private static final Path WORK = Path.of("target", "notebook-rapaio-it").toAbsolutePath();
    private static final Path EXT = Path.of(System.getProperty("latte.kernel.classpath")).toAbsolutePath().getParent();
    private static Path model;

    @BeforeAll
    static void saveTinyModel() throws Exception {
        model = tinyModel(WORK.resolve("tiny-model"));
    }

    @Test
    void tourOnRapaioShowsPngsAtTheModelSizeHtmlGridInfoAndAnswerLiveProgressAndNoErrors() throws Exception {
        List<JsonNode> cells = codeCells(execute(ROOT.resolve("examples/notebooks/latte-tour-rapaio.ipynb"), WORK.resolve("latte-tour-rapaio.out.ipynb")));
        for (JsonNode cell : cells) {
            for (JsonNode out : cell.get("outputs")) {
                assertNotEquals("error", out.get("output_type").asText(), "error output in " + source(cell) + ": " + out);
                assertFalse(out.get("output_type").asText().equals("stream") && out.get("name").asText().equals("stderr"),
                        "stderr in " + source(cell) + ": " + out);
            }
        }
        int gen = 8;

        assertTrue(text(cell(cells, "s.loadDefault()")).contains("loaded " + model), text(cell(cells, "s.loadDefault()")));

        String info = html(cell(cells, "s.info()"));
        assertTrue(info.contains("active parameters per step") && info.contains("<code>genImageSize</code>"), info);

        JsonNode live = cell(cells, "latte.run(List.of(\"generate\"");
        // The progress display started at step 0; it only says 12 of 12 if update_display_data reached the client.
        assertTrue(html(live).contains("step 12 of 12"), html(live));
        assertSize(gen, pngOutputs(live), 1);
        assertTrue(text(live).contains("red apple · steps 12 · cfg 3.0 · seed 1"), text(live));

        JsonNode plain = cell(cells, "s.generate(GenerationRequest.of(\"automobile\")");
        assertSize(gen, pngOutputs(plain), 1);
        assertEquals("automobile · steps 12 · cfg 3.0 · seed 2", text(plain));

        String grid = html(cell(cells, "s.grid(prompts)"));
        for (String prompt : List.of("grinning face", "red apple", "automobile", "couple with heart")) assertTrue(grid.contains(">" + prompt + " · steps 8"), prompt);
        assertSize(gen, embeddedPngs(grid), 4);
        assertSize(gen, embeddedPngs(html(cell(cells, "s.grid(bySteps)"))), 5);

        JsonNode ask = cell(cells, "s.ask(apple.image(), \"what is this?\")");
        assertTrue(text(ask).startsWith("Q: what is this?\nA: "), text(ask));
        assertTrue(text(ask).length() > "Q: what is this?\nA: ".length(), "the answer holds text: " + text(ask));
        assertTrue(html(ask).contains("A: <b>"), html(ask));
        // rapaio shows a String as text/html.
        assertFalse(html(cell(cells, "answer.answer()")).isBlank());

        assertTrue(html(cell(cells, "s.flow().config()")).contains("<code>genImageSize</code></td><td style=\"text-align:left\">" + gen + "<"));
    }

    @Test
    void badInputOnRapaioGivesOneErrorLineAndTheKernelCarriesOn() throws Exception {
        String ext = EXT.toString();
        List<String> sources = List.of(
                "%classpath " + ext.replace("notebook-kernel-ext/target", "model/core/target/classes"),
                "%classpath " + ext + "/classes",
                "%jars " + ext + "/notebook-lib",
                "io.latteflow.notebook.LatteMagics latte = io.latteflow.notebook.LatteNotebook.installRapaio();",
                "latte.run(List.of(\"generate\", \"a cat\"), null)",
                "Object loaded = latte.run(List.of(\"load\", \"" + model + "\"), null);",
                "latte.run(List.of(\"ask\", \"/no/such/picture.png\", \"what is this?\"), null)",
                "latte.run(List.of(\"generate\", \"a cat\", \"--steps\", \"ten\"), null)",
                "Object cat = latte.run(List.of(\"generate\", \"a cat\", \"--steps\", \"2\"), null);");
        Path in = WORK.resolve("errors-rapaio.ipynb");
        Files.createDirectories(WORK);
        Files.writeString(in, notebook(sources, "rapaio-jupyter-kernel"));
        List<JsonNode> cells = codeCells(execute(in, WORK.resolve("errors-rapaio.out.ipynb")));
        for (int i = 0; i < sources.size(); i++) {
            for (JsonNode out : cells.get(i).get("outputs")) assertNotEquals("error", out.get("output_type").asText(), sources.get(i) + ": " + out);
        }
        assertOneErrorLine("latte: no model loaded: run %latte load [dir] first", cells.get(4));
        assertOneErrorLine("latte: no image variable or file named '/no/such/picture.png'", cells.get(6));
        assertOneErrorLine("latte: --steps must be a whole number >= 1, got 'ten'", cells.get(7));
        assertSize(8, pngOutputs(cells.get(8)), 1);
    }

    private static void assertOneErrorLine(String expected, JsonNode cell) {
        JsonNode outputs = cell.get("outputs");
        assertEquals(1, outputs.size(), source(cell) + ": " + outputs);
        assertEquals("stderr", outputs.get(0).path("name").asText(), source(cell) + ": " + outputs);
        assertEquals(expected + "\n", joined(outputs.get(0).get("text")), source(cell));
    }

    private static JsonNode execute(Path notebook, Path out) throws Exception {
        // run-headless.sh starts rapaio through a launcher that restarts a kernel whose shell or heartbeat thread
        // never ran (a start-up race in rapaio 3.0.x, described there).
        return runHeadless(Map.of("LATTE_KERNEL", "rapaio", "LATTE_RAPAIO_JAR", EXT.resolve("rapaio/rapaio-jupyter-kernel.jar").toString(),
                "LATTE_MODEL", model.toString(), "LATTE_NOTEBOOK", notebook.toString(), "LATTE_NOTEBOOK_OUT", out.toString()),
                WORK.resolve(out.getFileName() + ".log"));
    }
}
