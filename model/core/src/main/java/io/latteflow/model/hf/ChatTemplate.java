package io.latteflow.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's own chat template, rendered with a Jinja engine (HubSpot's jinjava) the way transformers'
 * {@code apply_chat_template} renders it: {@code trim_blocks} and {@code lstrip_blocks} on, {@code messages} and
 * {@code add_generation_prompt} in scope. Nothing of Qwen's prompt format is written here: the system prompt,
 * role markers and image placeholders all come from the checkpoint's text.
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplate.read(dir);      // chat_template.json, chat_template.jinja or tokenizer_config.json
 * String prompt = t.render(List.of(Map.of("role", "user", "content", List.of(
 *         Map.of("type", "image"), Map.of("type", "text", "text", "What is in this picture?")))), true);
 * }</pre>
 */
public final class ChatTemplate {
    private final String source, where;
    /**
     * Most characters a rendered prompt (or any string a template builds) may hold: a real chat prompt is a few
     * thousand; a template is a program that comes with a downloaded folder, so what it may build is bounded (issue 19).
     */
    static final int MAX_OUTPUT_CHARS = 1 << 20;
    /** Most elements of a list or map a template builds, and of one {@code range()}. */
    static final int MAX_COLLECTION = 10_000;

    /** A real chat template renders in milliseconds; one that takes longer is looping (issue 19). */
    static final long MAX_RENDER_MILLIS = 5_000;
    /** When the render on this thread must end (System.nanoTime); jinjava asks before it renders each tag. */
    private static final ThreadLocal<long[]> DEADLINE = new ThreadLocal<>();

    private final Jinjava jinja = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
            .withMaxOutputSize(MAX_OUTPUT_CHARS).withMaxStringLength(MAX_OUTPUT_CHARS)
            .withMaxListSize(MAX_COLLECTION).withMaxMapSize(MAX_COLLECTION).withRangeLimit(MAX_COLLECTION)
            .withNodePreProcessor((node, interpreter) -> {
                long[] deadline = DEADLINE.get();
                if (deadline != null && System.nanoTime() - deadline[0] > 0) throw new Overtime();
            })
            .build());

    /**
     * Ends a render that ran past {@link #MAX_RENDER_MILLIS} (issue 19: three nested loops over {@code range(10000)}
     * with an empty body still ran after 18 minutes; jinjava's own limits bound sizes, not time). An Error, so that jinjava, which
     * turns exceptions in a tag into template errors and goes on with the loop, lets it through to {@link #render}.
     */
    private static final class Overtime extends Error {
        private static final long serialVersionUID = 1L;

        Overtime() {
            super("chat template rendering ran past its deadline", null, false, false);
        }
    }

    public ChatTemplate(String source, String where) {
        this.source = source;
        this.where = where;
    }

    /** The template of a Hugging Face folder, looked up where transformers looks for it. */
    public static ChatTemplate read(Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Path jinjaFile = dir.resolve("chat_template.jinja"), jsonFile = dir.resolve("chat_template.json");
        if (Files.isRegularFile(jinjaFile)) return new ChatTemplate(Files.readString(jinjaFile, StandardCharsets.UTF_8), jinjaFile.toString());
        if (Files.isRegularFile(jsonFile)) {
            JsonNode t = field(json, jsonFile, "chat_template");
            if (t == null || !t.isTextual()) throw new IOException(jsonFile + " has no \"chat_template\" string");
            return new ChatTemplate(t.textValue(), jsonFile.toString());
        }
        Path config = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            JsonNode t = field(json, config, "chat_template");
            if (t != null && t.isTextual()) return new ChatTemplate(t.textValue(), config.toString());
            if (t != null && t.isArray()) {                  // named templates: transformers uses "default"
                for (JsonNode named : t) {
                    if ("default".equals(named.path("name").asText())) return new ChatTemplate(named.path("template").asText(), config.toString());
                }
            }
        }
        throw new IOException("No chat template in " + dir + ": expected chat_template.json, chat_template.jinja or a "
                + "\"chat_template\" in tokenizer_config.json (an Instruct checkpoint ships one)");
    }

    /** {@code key} of the JSON object in {@code file}; null when the file is empty, not an object or lacks the key. */
    private static JsonNode field(ObjectMapper json, Path file, String key) throws IOException {
        JsonNode root = json.readTree(file.toFile());
        return root == null ? null : root.get(key);
    }

    /**
     * Renders a conversation in Hugging Face's message format: each message a map with {@code role} and
     * {@code content}, a string or a list of parts such as {@code {type: image}} and {@code {type: text, text: ...}}.
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        Map<String, Object> context = new HashMap<>();
        context.put("messages", messages);
        context.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result;
        long[] outer = DEADLINE.get();
        DEADLINE.set(new long[] {System.nanoTime() + MAX_RENDER_MILLIS * 1_000_000});
        try {
            result = jinja.renderForResult(source, context);
        } catch (Overtime e) {
            throw new IllegalArgumentException("The chat template of " + where + " did not finish rendering within "
                    + MAX_RENDER_MILLIS / 1000 + " s (a loop without end, or loops nested too deep?)");
        } catch (RuntimeException e) {                   // jinjava's own limits (output, collection sizes) and errors
            throw new IllegalArgumentException("The chat template of " + where + " failed to render: "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } finally {
            if (outer == null) DEADLINE.remove();
            else DEADLINE.set(outer);
        }
        if (result.hasErrors()) {
            throw new IllegalArgumentException("The chat template of " + where + " failed to render: " + result.getErrors().get(0).getMessage());
        }
        return result.getOutput();
    }
}
