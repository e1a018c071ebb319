package io.latteflow.examples.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads what the demo's FileSinks committed (in-progress and pending part files, whose names start with a dot,
 * are skipped: they are not part of the exactly-once output) and writes {@code images/<id>.png} plus an
 * {@code index.html} contact sheet of every image with its prompt and the model's answers about it.
 *
 * <pre>{@code
 * ContactSheet sheet = ContactSheet.read(Path.of("demo-out"));
 * sheet.write(Path.of("demo-out"));      // demo-out/index.html, demo-out/images/img-0000.png, ...
 * }</pre>
 */
public final class ContactSheet {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Image ids as the demo makes them (img-0000), and any other plain file name without a leading dot. */
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}");

    private final Map<String, JsonNode> images;
    private final Map<String, List<JsonNode>> answers;
    private final List<JsonNode> deadLetters;

    private ContactSheet(Map<String, JsonNode> images, Map<String, List<JsonNode>> answers, List<JsonNode> deadLetters) {
        this.images = images;
        this.answers = answers;
        this.deadLetters = deadLetters;
    }

    public static ContactSheet read(Path out) throws IOException {
        Map<String, JsonNode> images = new TreeMap<>();
        for (JsonNode n : lines(out.resolve("stream/images"))) {
            String id = n.get("id").asText();
            // The id names the image's file: one that is not a plain file name would write outside images/ (issue 19).
            if (!SAFE_ID.matcher(id).matches()) {
                throw new IOException("image id '" + id + "' in " + out.resolve("stream/images") + " is not a plain file name");
            }
            images.merge(id, n, (a, b) -> {
                throw new IllegalStateException("image " + a.get("id").asText() + " was committed twice");
            });
        }
        Map<String, List<JsonNode>> answers = new LinkedHashMap<>();
        List<JsonNode> all = lines(out.resolve("stream/answers"));
        all.sort(Comparator.comparing(n -> n.get("id").asText()));
        for (JsonNode n : all) answers.computeIfAbsent(n.get("image").asText(), k -> new ArrayList<>()).add(n);
        return new ContactSheet(images, answers, lines(out.resolve("stream/dead-letters")));
    }

    /**
     * How many results (images, answers and dead letters) are committed so far, read while the job runs: a part file
     * renamed under the reader is counted at the next call.
     */
    public static int committedCount(Path out) {
        int n = 0;
        for (String sink : List.of("images", "answers", "dead-letters")) {
            try {
                n += lines(out.resolve("stream").resolve(sink)).size();
            } catch (IOException | UncheckedIOException renamedMeanwhile) {
                // the sink is committing a checkpoint right now
            }
        }
        return n;
    }

    /** Committed JSON lines of every finished part file below {@code dir}. */
    static List<JsonNode> lines(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return new ArrayList<>();
        List<JsonNode> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList()) {
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) if (!line.isBlank()) out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    public int imageCount() {
        return images.size();
    }

    /** The ids of the committed images, sorted. */
    public List<String> imageIds() {
        return List.copyOf(images.keySet());
    }

    public int answerCount() {
        return answers.values().stream().mapToInt(List::size).sum();
    }

    public int deadLetterCount() {
        return deadLetters.size();
    }

    /** The answers about one image, in question order. */
    public List<String> answersAbout(String imageId) {
        return answers.getOrDefault(imageId, List.of()).stream().map(n -> n.get("question").asText() + " " + n.get("answer").asText()).toList();
    }

    /** Writes the PNGs and the page; returns the page. */
    public Path write(Path out) throws IOException {
        Path dir = out.resolve("images");
        Files.createDirectories(dir);
        StringBuilder html = new StringBuilder("""
                <!doctype html><html><head><meta charset="utf-8"><title>LaTtE-Flow streaming demo</title><style>
                body{font-family:sans-serif;margin:1.5em} .grid{display:flex;flex-wrap:wrap;gap:14px}
                figure{margin:0;width:180px} img{width:168px;height:168px;image-rendering:pixelated;border:1px solid #ccc}
                figcaption{font-size:12px} .qa{color:#555} .dead{color:#a00}</style></head><body>
                """);
        html.append("<h1>LaTtE-Flow streaming demo</h1><p>").append(images.size()).append(" images, ").append(answerCount())
                .append(" answers, ").append(deadLetters.size()).append(" dead letters (exactly-once FileSink output).</p><div class=\"grid\">\n");
        images.forEach((id, n) -> {
            try {
                Files.write(dir.resolve(id + ".png"), Base64.getDecoder().decode(n.get("png").asText()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            html.append("<figure><img src=\"images/").append(id).append(".png\" alt=\"").append(esc(n.get("prompt").asText()))
                    .append("\"><figcaption><b>").append(esc(n.get("prompt").asText())).append("</b><br>");
            for (JsonNode a : answers.getOrDefault(id, List.of())) {
                html.append("<span class=\"qa\">").append(esc(a.get("question").asText())).append("</span> ")
                        .append(esc(a.get("answer").asText())).append("<br>");
            }
            html.append("<small>batch ").append(n.get("batch").asInt()).append(", ").append(Math.round(n.get("latency_ms").asDouble()))
                    .append(" ms</small></figcaption></figure>\n");
        });
        html.append("</div>");
        if (!deadLetters.isEmpty()) {
            html.append("<h2>Dead letters</h2><ul>");
            for (JsonNode d : deadLetters) {
                html.append("<li class=\"dead\">").append(esc(d.path("id").asText("(no id)"))).append(": ").append(esc(d.get("reason").asText())).append("</li>");
            }
            html.append("</ul>");
        }
        html.append("</body></html>\n");
        Path page = out.resolve("index.html");
        Files.writeString(page, html, StandardCharsets.UTF_8);
        return page;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
