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
 * Runs examples/notebooks/latte-tour-ijava.ipynb through a real Jupyter client (nbconvert/nbclient) on the IJava
 * stand-in ({@code io.github.spencerpark.ijava.IJava}: jupyter-jvm-basekernel 2.3.0 and {@code jdk.jshell}, magics
 * rewritten into Java as IJava rewrites them), started bare, exactly as {@code LATTE_KERNEL=ijava
 * examples/notebooks/run-headless.sh} does: the notebook adds the extension with %classpath / %jars and installs
 * it with {@code LatteNotebook.installIJava()} (issue 21).
 */
class NotebookOnIJavaKernelITCase {
    private static final Path WORK = Path.of("target", "notebook-ijava-it").toAbsolutePath();
    private static final Path EXT = Path.of(System.getProperty("latte.kernel.classpath")).toAbsolutePath().getParent();
    private static Path model;

    @BeforeAll
    static void saveTinyModel() throws Exception {
        model = tinyModel(WORK.resolve("tiny-model"));
    }

    @Test
    void tourOnIJavaRunsTheMagicsWithPngsAtTheModelSizeLiveProgressAGridAnAnswerAndOneLineForABadArgument() throws Exception {
        List<JsonNode> cells = codeCells(execute(ROOT.resolve("examples/notebooks/latte-tour-ijava.ipynb"), WORK.resolve("latte-tour-ijava.out.ipynb")));
        JsonNode bad = cell(cells, "--steps ten");
        for (JsonNode cell : cells) {
            for (JsonNode out : cell.get("outputs")) {
                assertNotEquals("error", out.get("output_type").asText(), "error output in " + source(cell) + ": " + out);
                if (cell != bad) {
                    assertFalse(out.get("output_type").asText().equals("stream") && out.get("name").asText().equals("stderr"),
                            "stderr in " + source(cell) + ": " + out);
                }
            }
        }
        int gen = 8;

        assertTrue(cell(cells, "installIJava()").get("outputs").isEmpty(), "the install cell shows nothing");
        assertTrue(text(cell(cells, "%latte load")).contains("loaded " + model), text(cell(cells, "%latte load")));
        String info = html(cell(cells, "%latte info"));
        assertTrue(info.contains("active parameters per step") && info.contains("<code>genImageSize</code>"), info);

        JsonNode generate = cell(cells, "GeneratedImage apple = %latte generate");
        // The progress display started at step 0; it only says 12 of 12 if update_display_data reached the client.
        assertTrue(html(generate).contains("step 12 of 12"), html(generate));
        assertSize(gen, pngOutputs(generate), 1);
        assertTrue(text(generate).contains("red apple · steps 12 · cfg 3.0 · seed 1"), text(generate));
        // x = %latte ... kept the object: the next cell reads it.
        assertEquals(gen + "x" + gen + " pixels", text(cell(cells, "BufferedImage picture = apple.image()")).split(",")[0]);

        JsonNode grid = cell(cells, "%%latte generate");
        assertTrue(html(grid).contains("step 8 of 8"), html(grid));
        String gridHtml = htmlOutputs(grid).get(htmlOutputs(grid).size() - 1);
        for (String prompt : List.of("grinning face", "red apple", "automobile", "couple with heart")) assertTrue(gridHtml.contains(">" + prompt + " · steps 8"), prompt);
        assertSize(gen, embeddedPngs(gridHtml), 4);

        JsonNode ask = cell(cells, "%latte ask apple");
        assertTrue(text(ask).startsWith("Q: what is this?\nA: "), text(ask));
        assertTrue(text(ask).length() > "Q: what is this?\nA: ".length(), "the answer holds text: " + text(ask));
        assertTrue(html(ask).contains("A: <b>"), html(ask));

        assertEquals(1, bad.get("outputs").size(), bad.get("outputs").toString());
        assertEquals("latte: --steps must be a whole number >= 1, got 'ten'\n", joined(bad.get("outputs").get(0).get("text")));

        assertTrue(html(cell(cells, "session().flow().config()")).contains("<code>genImageSize</code></td><td style=\"text-align:left\">" + gen + "<"));
    }

    @Test
    void installIJavaOutsideIJavaSaysSoInOneLine() {
        // This JVM runs no IJava kernel: the stand-in's entry class is on the test class path, its kernel is not running.
        LatteNotebookException e = assertThrows(LatteNotebookException.class, LatteNotebook::installIJava);
        assertEquals("IJava.getKernelInstance() returned null: no IJava kernel runs in this JVM", e.getMessage());
    }

    private static JsonNode execute(Path notebook, Path out) throws Exception {
        Files.createDirectories(WORK);
        return runHeadless(Map.of("LATTE_KERNEL", "ijava", "LATTE_IJAVA_CP", EXT.resolve("test-classes") + ":" + EXT.resolve("ijava-kernel") + "/*",
                "LATTE_MODEL", model.toString(), "LATTE_NOTEBOOK", notebook.toString(), "LATTE_NOTEBOOK_OUT", out.toString()),
                WORK.resolve(out.getFileName() + ".log"));
    }
}
