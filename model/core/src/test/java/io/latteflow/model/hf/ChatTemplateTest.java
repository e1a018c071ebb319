package io.latteflow.model.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How much work a chat template may do (issue 19): a template is a program that comes with a downloaded folder, so
 * one that loops, recurses or keeps rendering after an error is refused quickly, naming its file and the limit,
 * while a real template over a long conversation renders as before.
 */
class ChatTemplateTest {
    private static final List<Map<String, Object>> MESSAGES = List.of(
            Map.of("role", "system", "content", "You are a helpful assistant."),
            Map.of("role", "user", "content", List.of(Map.of("type", "image"), Map.of("type", "text", "text", "What is in this picture?"))));

    /**
     * The refusal of a template. Which limit refused it is in its message (the step budget's or the deadline's); how
     * long that took is the fuzz target's and RELIABILITY.md's to measure, not a test's (a busy machine took 3.3 s).
     */
    private static IllegalArgumentException refused(String template) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ChatTemplate(template, "/models/x/chat_template.jinja").render(MESSAGES, true));
        assertTrue(e.getMessage().contains("/models/x/chat_template.jinja"), e.getMessage());
        return e;
    }

    @Test
    void nestedLoopsAreRefusedByTheStepBudgetNotAfterSecondsOfLooping() {
        // 10^8 empty iterations: before the step budget this ran into the 5 s render deadline
        IllegalArgumentException e = refused("{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}done");
        assertEquals("The chat template of /models/x/chat_template.jinja took more than 100,000 rendering steps (nodes rendered"
                + " plus loop iterations; loops nested too deep, or macros calling each other too often?)", e.getMessage());
        assertEquals(100_000, ChatTemplate.MAX_RENDER_STEPS);
    }

    @Test
    void macrosThatFanOutAreRefusedByTheStepBudget() {
        // 2^17 macro calls, no recursion (which jinjava refuses itself): more steps than the budget of 100,000
        StringBuilder t = new StringBuilder("{% macro m0() %}x{% endmacro %}");
        for (int i = 1; i <= 17; i++) t.append(String.format("{%% macro m%d() %%}{{ m%d() }}{{ m%d() }}{%% endmacro %%}", i, i - 1, i - 1));
        IllegalArgumentException e = refused(t.append("{{ m17() | length }}").toString());
        assertTrue(e.getMessage().contains("rendering steps"), e.getMessage());
    }

    @Test
    void aTemplateStopsAtItsFirstErrorInsteadOfLoopingOverTheRest() {
        // an error in every one of 10^8 iterations: before, jinjava went on looping (and ran into the deadline)
        IllegalArgumentException e = refused("{% for a in range(10000) %}{% for b in range(10000) %}{{ x.y( }}{% endfor %}{% endfor %}");
        assertTrue(e.getMessage().contains("failed to render: "), e.getMessage());
        assertTrue(e.getMessage().contains("x.y("), e.getMessage());
    }

    @Test
    void aLoopWhoseEveryStepDoesMuchIsEndedByTheDeadline() {
        // 10,000 joins of 10,000 numbers: 20,001 steps, some 3 s of work; here with a 100 ms deadline (the product's is 5 s)
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ChatTemplate(
                "{% for i in range(10000) %}{% set s = range(10000) | join(',') %}{% endfor %}", "slow.jinja", 100).render(MESSAGES, true));
        assertEquals("The chat template of slow.jinja did not finish rendering within 100 ms (a loop doing too much work in each step?)", e.getMessage());
    }

    @Test
    void outputBeyondTheLimitIsRefused() {
        // some 49,000 characters a step: jinjava's output limit (1 M characters) ends it after 22 steps
        IllegalArgumentException e = refused("{% for i in range(10000) %}{{ range(10000) | join(',') }}{% endfor %}");
        assertTrue(e.getMessage().contains("failed to render") && e.getMessage().contains("over limit"), e.getMessage());
    }

    @Test
    void qwen2VlsTemplateOverALongConversationStaysWellInsideTheBudget() throws Exception {
        Path folder = Path.of(ChatTemplateTest.class.getResource("/fixtures/qwen2vl-folders/tied-bf16-sharded").toURI());
        ChatTemplate template = ChatTemplate.read(folder);
        List<Map<String, Object>> conversation = new ArrayList<>();
        conversation.add(Map.of("role", "system", "content", "You are a helpful assistant."));
        int turns = 500;
        for (int i = 0; i < turns; i++) {
            conversation.add(Map.of("role", "user", "content", List.of(Map.of("type", "image"), Map.of("type", "image"),
                    Map.of("type", "text", "text", "What differs between these two pictures, number " + i + "?"))));
            conversation.add(Map.of("role", "assistant", "content", "The second one is brighter."));
        }
        String prompt = template.render(conversation, true);
        assertEquals(2 * turns, prompt.split("<\\|image_pad\\|>", -1).length - 1);
        assertTrue(prompt.endsWith("<|im_start|>assistant\n"), prompt.substring(prompt.length() - 40));
        assertTrue(Files.readString(folder.resolve("chat_template.json"), StandardCharsets.UTF_8).contains("image_count"));
    }
}
