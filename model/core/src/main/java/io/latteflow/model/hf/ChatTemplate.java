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
    private final Jinjava jinja = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());

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
            JsonNode t = json.readTree(jsonFile.toFile()).get("chat_template");
            if (t == null || !t.isTextual()) throw new IOException(jsonFile + " has no \"chat_template\" string");
            return new ChatTemplate(t.textValue(), jsonFile.toString());
        }
        Path config = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            JsonNode t = json.readTree(config.toFile()).get("chat_template");
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

    /**
     * Renders a conversation in Hugging Face's message format: each message a map with {@code role} and
     * {@code content}, a string or a list of parts such as {@code {type: image}} and {@code {type: text, text: ...}}.
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        Map<String, Object> context = new HashMap<>();
        context.put("messages", messages);
        context.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = jinja.renderForResult(source, context);
        if (result.hasErrors()) {
            throw new IllegalArgumentException("The chat template of " + where + " failed to render: " + result.getErrors().get(0).getMessage());
        }
        return result.getOutput();
    }
}
