package io.latteflow.notebook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs notebooks through a real Jupyter client (nbconvert/nbclient from a venv under target/) on the test kernel
 * (JShellKernel, on jupyter-jvm-basekernel), exactly as examples/notebooks/run-headless.sh does, and reads the
 * executed notebook back.
 */
class NotebookThroughJupyterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DATA_URI_PNG = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)");
    private static final Path ROOT = Path.of(System.getProperty("latte.root", "..")).toAbsolutePath().normalize();
    private static final Path WORK = Path.of("target", "notebook-it").toAbsolutePath();
    private static Path model;

    @BeforeAll
    static void tinyModel() throws Exception {
        model = WORK.resolve("tiny-model");
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 42)) {
            // Untrained, the output projection is zero and every picture is its seed's noise; a random one makes
            // prompts, steps and guidance visibly change the pictures.
            flow.model().params().all().forEach((name, w) -> {
                if (name.matches("gen\\.groups\\.\\d+\\.proj_out\\.weight")) w.assign(Nd4j.randn(7L, w.shape()).muli(0.3));
            });
            flow.save(model);
        }
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
        for (String prompt : List.of("grinning face", "red apple", "blue car", "green frog")) assertTrue(gridHtml.contains(">" + prompt + " · steps 8"), prompt);
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
        Files.writeString(in, notebook(sources));
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
        Files.createDirectories(WORK);
        Path classpathFile = Path.of(System.getProperty("latte.kernel.classpath")).toAbsolutePath();
        Path target = classpathFile.getParent();
        String cp = target.resolve("classes") + File.pathSeparator + target.resolve("test-classes") + File.pathSeparator
                + Files.readString(classpathFile).strip();
        ProcessBuilder pb = new ProcessBuilder("bash", ROOT.resolve("examples/notebooks/run-headless.sh").toString());
        pb.environment().put("LATTE_KERNEL_CP", cp);
        pb.environment().put("LATTE_MODEL", model.toString());
        pb.environment().put("LATTE_NOTEBOOK", notebook.toString());
        pb.environment().put("LATTE_NOTEBOOK_OUT", out.toString());
        pb.environment().put("LATTE_ALLOW_ERRORS", "1");
        pb.environment().put("LATTE_TIMEOUT", "300");
        Path log = WORK.resolve(out.getFileName() + ".log");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("run-headless.sh did not finish in 15 minutes; see " + log);
        }
        assertEquals(0, p.exitValue(), "run-headless.sh failed:\n" + Files.readString(log));
        return JSON.readTree(out.toFile());
    }

    private static String notebook(List<String> sources) throws Exception {
        ObjectNode nb = JSON.createObjectNode();
        ArrayNode cells = nb.putArray("cells");
        for (int i = 0; i < sources.size(); i++) {
            ObjectNode c = cells.addObject();
            c.put("cell_type", "code").put("id", "c" + i).putNull("execution_count");
            c.putObject("metadata");
            c.putArray("outputs");
            c.put("source", sources.get(i));
        }
        nb.putObject("metadata").putObject("kernelspec").put("name", "latte-java").put("display_name", "Java").put("language", "java");
        nb.put("nbformat", 4).put("nbformat_minor", 5);
        return JSON.writeValueAsString(nb);
    }

    private static List<JsonNode> codeCells(JsonNode nb) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode c : nb.get("cells")) if (c.get("cell_type").asText().equals("code")) out.add(c);
        return out;
    }

    private static JsonNode cell(List<JsonNode> cells, String sourceStart) {
        return cells.stream().filter(c -> source(c).contains(sourceStart)).findFirst()
                .orElseThrow(() -> new AssertionError("no cell with " + sourceStart));
    }

    private static String source(JsonNode cell) {
        return joined(cell.get("source"));
    }

    private static String joined(JsonNode textOrLines) {
        if (textOrLines.isTextual()) return textOrLines.asText();
        StringBuilder s = new StringBuilder();
        textOrLines.forEach(l -> s.append(l.asText()));
        return s.toString();
    }

    private static String text(JsonNode cell) {
        return data(cell, "text/plain").stream().reduce((a, b) -> a + "\n" + b).orElse("");
    }

    private static String html(JsonNode cell) {
        return String.join("\n", htmlOutputs(cell));
    }

    private static List<String> htmlOutputs(JsonNode cell) {
        return data(cell, "text/html");
    }

    private static List<String> data(JsonNode cell, String mime) {
        List<String> out = new ArrayList<>();
        for (JsonNode o : cell.get("outputs")) if (o.has("data") && o.get("data").has(mime)) out.add(joined(o.get("data").get(mime)));
        return out;
    }

    private static List<BufferedImage> pngOutputs(JsonNode cell) throws Exception {
        List<BufferedImage> out = new ArrayList<>();
        for (String b64 : data(cell, "image/png")) out.add(decode(b64.strip()));
        return out;
    }

    private static List<BufferedImage> embeddedPngs(String html) throws Exception {
        List<BufferedImage> out = new ArrayList<>();
        Matcher m = DATA_URI_PNG.matcher(html);
        while (m.find()) out.add(decode(m.group(1)));
        return out;
    }

    private static BufferedImage decode(String b64) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(b64)));
        assertNotNull(img, "not a PNG");
        return img;
    }
}
