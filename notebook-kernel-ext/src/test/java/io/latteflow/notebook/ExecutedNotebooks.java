package io.latteflow.notebook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the notebook tests share: a tiny model whose pictures differ by prompt, running
 * examples/notebooks/run-headless.sh (a real Jupyter client and kernel), and reading the executed notebook.
 *
 * <pre>{@code
 * JsonNode nb = ExecutedNotebooks.runHeadless(Map.of("LATTE_NOTEBOOK", in.toString(), "LATTE_NOTEBOOK_OUT", out.toString()), log);
 * List<BufferedImage> pngs = ExecutedNotebooks.pngOutputs(ExecutedNotebooks.cell(ExecutedNotebooks.codeCells(nb), "generate"));
 * }</pre>
 */
final class ExecutedNotebooks {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path ROOT = Path.of(System.getProperty("latte.root", "..")).toAbsolutePath().normalize();
    private static final Pattern DATA_URI_PNG = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)");

    private ExecutedNotebooks() {
    }

    /** An untrained tiny model saved to {@code dir}, with a random output projection. */
    static Path tinyModel(Path dir) throws Exception {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 42)) {
            // Untrained, the output projection is zero and every picture is its seed's noise; a random one makes
            // prompts, steps and guidance visibly change the pictures.
            flow.model().params().all().forEach((name, w) -> {
                if (name.matches("gen\\.groups\\.\\d+\\.proj_out\\.weight")) w.assign(Nd4j.randn(7L, w.shape()).muli(0.3));
            });
            flow.save(dir);
        }
        return dir;
    }

    /** Runs run-headless.sh with these environment variables (plus errors allowed) and reads LATTE_NOTEBOOK_OUT. */
    static JsonNode runHeadless(Map<String, String> env, Path log) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", ROOT.resolve("examples/notebooks/run-headless.sh").toString());
        pb.environment().putAll(env);
        pb.environment().put("LATTE_ALLOW_ERRORS", "1");
        pb.environment().putIfAbsent("LATTE_TIMEOUT", "300");
        Files.createDirectories(log.getParent());
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("run-headless.sh did not finish in 15 minutes; see " + log);
        }
        assertEquals(0, p.exitValue(), "run-headless.sh failed:\n" + Files.readString(log));
        return JSON.readTree(Path.of(env.get("LATTE_NOTEBOOK_OUT")).toFile());
    }

    /** A notebook of code cells for the kernelspec {@code kernel}. */
    static String notebook(List<String> sources, String kernel) throws Exception {
        ObjectNode nb = JSON.createObjectNode();
        ArrayNode cells = nb.putArray("cells");
        for (int i = 0; i < sources.size(); i++) {
            ObjectNode c = cells.addObject();
            c.put("cell_type", "code").put("id", "c" + i).putNull("execution_count");
            c.putObject("metadata");
            c.putArray("outputs");
            c.put("source", sources.get(i));
        }
        nb.putObject("metadata").putObject("kernelspec").put("name", kernel).put("display_name", "Java").put("language", "java");
        nb.put("nbformat", 4).put("nbformat_minor", 5);
        return JSON.writeValueAsString(nb);
    }

    static List<JsonNode> codeCells(JsonNode nb) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode c : nb.get("cells")) if (c.get("cell_type").asText().equals("code")) out.add(c);
        return out;
    }

    static JsonNode cell(List<JsonNode> cells, String sourceStart) {
        return cells.stream().filter(c -> source(c).contains(sourceStart)).findFirst()
                .orElseThrow(() -> new AssertionError("no cell with " + sourceStart));
    }

    static String source(JsonNode cell) {
        return joined(cell.get("source"));
    }

    static String joined(JsonNode textOrLines) {
        if (textOrLines.isTextual()) return textOrLines.asText();
        StringBuilder s = new StringBuilder();
        textOrLines.forEach(l -> s.append(l.asText()));
        return s.toString();
    }

    static String text(JsonNode cell) {
        return data(cell, "text/plain").stream().reduce((a, b) -> a + "\n" + b).orElse("");
    }

    static String html(JsonNode cell) {
        return String.join("\n", htmlOutputs(cell));
    }

    static List<String> htmlOutputs(JsonNode cell) {
        return data(cell, "text/html");
    }

    static List<String> data(JsonNode cell, String mime) {
        List<String> out = new ArrayList<>();
        for (JsonNode o : cell.get("outputs")) if (o.has("data") && o.get("data").has(mime)) out.add(joined(o.get("data").get(mime)));
        return out;
    }

    static List<BufferedImage> pngOutputs(JsonNode cell) throws Exception {
        List<BufferedImage> out = new ArrayList<>();
        for (String b64 : data(cell, "image/png")) out.add(decode(b64.strip()));
        return out;
    }

    static List<BufferedImage> embeddedPngs(String html) throws Exception {
        List<BufferedImage> out = new ArrayList<>();
        Matcher m = DATA_URI_PNG.matcher(html);
        while (m.find()) out.add(decode(m.group(1)));
        return out;
    }

    /** {@code count} images, each {@code side} x {@code side} pixels (the model's size). */
    static void assertSize(int side, List<BufferedImage> images, int count) {
        assertEquals(count, images.size());
        for (BufferedImage img : images) {
            assertEquals(side, img.getWidth());
            assertEquals(side, img.getHeight());
        }
    }

    static BufferedImage decode(String b64) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(b64)));
        assertNotNull(img, "not a PNG");
        return img;
    }
}
