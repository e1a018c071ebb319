package io.latteflow.notebook;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.latteflow.notebook.ExecutedNotebooks.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs notebooks through a real Jupyter client (nbconvert/nbclient from a venv under target/) on the test kernel
 * (JShellKernel, on jupyter-jvm-basekernel), exactly as examples/notebooks/run-headless.sh does, and reads the
 * executed notebook back.
 */
class NotebookThroughJupyterITCase {
    private static final Path WORK = Path.of("target", "notebook-it").toAbsolutePath();
    private static Path model;

    @BeforeAll
    static void saveTinyModel() throws Exception {
        model = tinyModel(WORK.resolve("tiny-model"));
    }

    @Test
    void tourRunsOnARealJupyterWithImagesAtTheModelSizeLiveProgressAndAnAnswer() throws Exception {
        JsonNode nb = execute(ROOT.resolve("examples/notebooks/latte-tour.ipynb"), WORK.resolve("latte-tour.out.ipynb"));
        List<JsonNode> cells = codeCells(nb);
        for (JsonNode cell : cells) {
            for (JsonNode out : cell.get("outputs")) {
                assertNotEquals("error", out.get("output_type").asText(), "error output in " + source(cell) + ": " + out);
                assertFalse(out.get("output_type").asText().equals("stream") && out.get("name").asText().equals("stderr"),
                        "stderr in " + source(cell) + ": " + out);
            }
        }
        int gen = 8;

        JsonNode load = cell(cells, "%latte load");
        assertTrue(text(load).contains("loaded " + model), text(load));

        JsonNode info = cell(cells, "%latte info");
        assertTrue(html(info).contains("active parameters per step") && html(info).contains("<code>genImageSize</code>"), html(info));

        JsonNode generate = cell(cells, "GeneratedImage apple = %latte generate");
        // The progress display started at step 0; it only says 12 of 12 if update_display_data reached the client.
        assertTrue(html(generate).contains("step 12 of 12"), html(generate));
        List<BufferedImage> pngs = pngOutputs(generate);
        assertEquals(1, pngs.size());
        assertEquals(gen, pngs.get(0).getWidth());
        assertEquals(gen, pngs.get(0).getHeight());

        assertTrue(text(cell(cells, "BufferedImage picture = apple.image()")).contains(gen + "x" + gen + " pixels"));

        JsonNode grid = cell(cells, "%%latte generate");
        String gridHtml = htmlOutputs(grid).get(htmlOutputs(grid).size() - 1);
        for (String prompt : List.of("grinning face", "red apple", "automobile", "couple with heart")) assertTrue(gridHtml.contains(">" + prompt + " · steps 8"), prompt);
        List<BufferedImage> cellsOfGrid = embeddedPngs(gridHtml);
        assertEquals(4, cellsOfGrid.size());
        assertTrue(cellsOfGrid.stream().allMatch(i -> i.getWidth() == gen && i.getHeight() == gen));

        List<BufferedImage> bySteps = embeddedPngs(html(cell(cells, "bySteps.add")));
        assertEquals(5, bySteps.size());
        assertTrue(bySteps.stream().allMatch(i -> i.getWidth() == gen));

        JsonNode ask = cell(cells, "%latte ask apple");
        assertTrue(text(ask).startsWith("Q: what is this?\nA: "), text(ask));
        assertTrue(text(ask).length() > "Q: what is this?\nA: ".length(), "the answer holds text: " + text(ask));
        assertTrue(html(ask).contains("A: <b>"), html(ask));

        assertFalse(text(cell(cells, "answer.answer()")).isBlank());
        assertTrue(text(cell(cells, "long t0")).contains("ms per image"));
    }

    @Test
    void badArgumentsMissingModelAndUnknownImageEachGiveOneErrorLineAndTheKernelCarriesOn() throws Exception {
        List<String> sources = List.of(
                "%latte load /no/such/model",
                "%latte generate \"a cat\"",
                "%latte load",
                "%latte generate \"a cat\" --steps ten",
                "%latte generate \"a cat\" --colour red",
                "%latte generate",
                "%latte ask nosuchimage \"what is this?\"",
                "String notAnImage = \"hello\";",
                "%latte ask notAnImage \"what is this?\"",
                "%latte frobnicate",
                "%latte generate \"a cat\" --steps 2");
        List<String> expected = Arrays.asList(
                "latte: no model directory /no/such/model",
                "latte: no model loaded: run %latte load [dir] first",
                null,
                "latte: --steps must be a whole number >= 1, got 'ten'",
                "latte: unknown option --colour for generate (use --steps, --cfg, --seed, --n)",
                "latte: %latte generate needs a prompt, e.g. %latte generate \"a red apple\"",
                "latte: no image variable or file named 'nosuchimage'",
                null,
                "latte: variable notAnImage is a String, not an image (BufferedImage, GeneratedImage, PNG bytes or a path)",
                "latte: unknown subcommand 'frobnicate'; usage: " + LatteCommand.USAGE,
                null);
        Path in = WORK.resolve("errors.ipynb");
        Files.createDirectories(WORK);
        Files.writeString(in, notebook(sources, "latte-java"));
        List<JsonNode> cells = codeCells(execute(in, WORK.resolve("errors.out.ipynb")));
        for (int i = 0; i < sources.size(); i++) {
            JsonNode outputs = cells.get(i).get("outputs");
            for (JsonNode out : outputs) assertNotEquals("error", out.get("output_type").asText(), sources.get(i) + ": " + out);
            if (expected.get(i) == null) continue;
            assertEquals(1, outputs.size(), sources.get(i) + ": " + outputs);
            JsonNode out = outputs.get(0);
            assertEquals("stream", out.get("output_type").asText(), sources.get(i));
            assertEquals("stderr", out.get("name").asText(), sources.get(i));
            assertEquals(expected.get(i) + "\n", joined(out.get("text")), sources.get(i));
        }
        List<BufferedImage> last = pngOutputs(cells.get(sources.size() - 1));
        assertEquals(1, last.size(), "the kernel still generates after the errors");
    }

    private static JsonNode execute(Path notebook, Path out) throws Exception {
        Path classpathFile = Path.of(System.getProperty("latte.kernel.classpath")).toAbsolutePath();
        Path target = classpathFile.getParent();
        String cp = target.resolve("classes") + File.pathSeparator + target.resolve("test-classes") + File.pathSeparator
                + Files.readString(classpathFile).strip();
        return runHeadless(Map.of("LATTE_KERNEL_CP", cp, "LATTE_MODEL", model.toString(), "LATTE_NOTEBOOK", notebook.toString(),
                "LATTE_NOTEBOOK_OUT", out.toString()), WORK.resolve(out.getFileName() + ".log"));
    }
}
