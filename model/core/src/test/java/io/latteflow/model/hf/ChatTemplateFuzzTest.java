package io.latteflow.model.hf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.fuzz.FuzzFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz tests of the chat template (issue 19): a Jinja program that comes with a Hugging Face folder, rendered by
 * jinjava over the conversation. A template and messages either render, or fail with the documented
 * {@link IllegalArgumentException} ("failed to render") / {@link IOException} (no template in the folder); a
 * template must not hang, exhaust memory or overflow the stack however it loops, recurses or repeats strings.
 */
class ChatTemplateFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Map<String, Object>> DEFAULT_MESSAGES = List.of(
            Map.of("role", "system", "content", "You are a helpful assistant."),
            Map.of("role", "user", "content", List.of(Map.of("type", "image"), Map.of("type", "text", "text", "What is in this picture?"))));

    /**
     * The render deadline of this target, in place of the product's 5 s: the step budget ends loops and recursion in
     * milliseconds, but a loop whose every step does a lot (a join of 10,000 elements) would run into the deadline, and
     * with 5 s the fuzzer managed 4 inputs a second. The deadline is the same code either way.
     */
    private static final long FUZZ_RENDER_MILLIS = 200;

    /** Input: the template's text, a NUL byte, then the messages as a JSON array (the default conversation if not). */
    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void templateAndMessages(byte[] data) {
        int nul = 0;
        while (nul < data.length && data[nul] != 0) nul++;
        String template = new String(data, 0, nul, StandardCharsets.UTF_8);
        List<Map<String, Object>> messages = DEFAULT_MESSAGES;
        if (nul < data.length) {
            try {
                messages = JSON.readValue(Arrays.copyOfRange(data, nul + 1, data.length), new TypeReference<>() { });
                if (messages == null) messages = DEFAULT_MESSAGES;
            } catch (IOException e) {             // not JSON (Jackson's CharConversionException is no JacksonException)
                messages = DEFAULT_MESSAGES;
            }
        }
        render(new ChatTemplate(template, "fuzz", FUZZ_RENDER_MILLIS), messages, data.length % 2 == 0);
    }

    private static Path folder;

    /** Input: a folder's {@code chat_template.json}, read as transformers reads it and rendered. */
    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void chatTemplateJson(byte[] data) {
        if (folder == null) folder = FuzzFiles.folder("chat-template");
        FuzzFiles.write(folder, "chat_template.json", data);
        ChatTemplate template;
        try {
            template = ChatTemplate.read(folder);
        } catch (IOException e) {
            FuzzFiles.requireMessage(e);
            return;
        }
        render(template, DEFAULT_MESSAGES, true);
    }

    private static void render(ChatTemplate template, List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        try {
            template.render(messages, addGenerationPrompt);
        } catch (IllegalArgumentException e) {
            FuzzFiles.requireMessage(e);
        }
    }
}
