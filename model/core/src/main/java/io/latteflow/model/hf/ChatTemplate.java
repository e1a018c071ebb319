package io.latteflow.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.TagNode;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
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
    private final long maxRenderMillis;
    /**
     * Most characters a rendered prompt (or any string a template builds) may hold: a real chat prompt is a few
     * thousand; a template is a program that comes with a downloaded folder, so what it may build is bounded (issue 19).
     */
    static final int MAX_OUTPUT_CHARS = 1 << 20;
    /** Most elements of a list or map a template builds, and of one {@code range()}. */
    static final int MAX_COLLECTION = 10_000;

    /**
     * Most rendering steps of one render: every node rendered (text, expression or tag, once each time a loop or a
     * macro renders it) plus every iteration of every loop, counted when the loop starts from its collection's size.
     * Qwen2-VL's template takes 13 steps plus 29 a turn (a question with two images and its answer): 29,013 for
     * 1,000 turns, so this is room for some 3,400 turns. Nested loops reach it in tens of milliseconds and macros that
     * call each other in about half a second, without waiting for the clock (issue 19).
     */
    static final long MAX_RENDER_STEPS = 100_000;
    /**
     * A render that is still running after this is ended; the backstop for the steps that do a lot of work each
     * (a filter over 10,000 elements, a million-character string joined again and again), which the step count
     * does not weigh. A real chat template renders in milliseconds (its first render in a JVM, loading jinjava, in
     * under a second; 1,000 turns of Qwen2-VL's in about 0.3 s).
     */
    static final long MAX_RENDER_MILLIS = 5_000;
    /** The budget of the render on this thread; jinjava's node pre-processor and our for tag charge it. */
    private static final ThreadLocal<Budget> BUDGET = new ThreadLocal<>();

    private final Jinjava jinja = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
            .withMaxOutputSize(MAX_OUTPUT_CHARS).withMaxStringLength(MAX_OUTPUT_CHARS)
            .withMaxListSize(MAX_COLLECTION).withMaxMapSize(MAX_COLLECTION).withRangeLimit(MAX_COLLECTION)
            .withNodePreProcessor((node, interpreter) -> {
                Budget budget = BUDGET.get();
                if (budget != null) budget.beforeNode(interpreter);
            })
            .build());

    {
        jinja.getGlobalContext().registerTag(new CountedForTag());   // in place of jinjava's own "for"
    }

    /**
     * The work one render may still do. jinjava bounds sizes (output, strings, lists, maps, ranges) but not work: three
     * nested loops over {@code range(10000)} with an empty body ran for 18 minutes (issue 19), and a template with
     * an error goes on rendering the rest, looping included, to collect more errors. So each node jinjava is about
     * to render, and each loop, is charged here first; a render that is over its steps or its time, or has an error
     * already (which fails the render anyway), is ended with {@link Stop}. Why it was ended is kept here as well,
     * because jinjava turns what is thrown inside a macro call into one more template error and renders on.
     */
    private static final class Budget {
        private final String where;
        private final long maxMillis, deadline;
        private long steps;
        /** Why the render was ended (the message of its IllegalArgumentException); null while it may go on. */
        private String stopped;

        Budget(String where, long maxMillis) {
            this.where = where;
            this.maxMillis = maxMillis;
            this.deadline = System.nanoTime() + maxMillis * 1_000_000;
        }

        void beforeNode(JinjavaInterpreter interpreter) {
            if (stopped == null && interpreter.getLastError().isPresent()) {
                stopped = failed(interpreter.getErrorsCopy().get(0).getMessage());
            }
            charge(1);
        }

        void charge(long n) {
            if (stopped == null) {
                steps += n;
                if (steps > MAX_RENDER_STEPS) {
                    stopped = "The chat template of " + where + " took more than " + String.format("%,d", MAX_RENDER_STEPS)
                            + " rendering steps (nodes rendered plus loop iterations; loops nested too deep, or macros"
                            + " calling each other too often?)";
                } else if (System.nanoTime() - deadline > 0) {
                    stopped = "The chat template of " + where + " did not finish rendering within "
                            + (maxMillis % 1000 == 0 ? maxMillis / 1000 + " s" : maxMillis + " ms")
                            + " (a loop doing too much work in each step?)";
                }
            }
            if (stopped != null) throw new Stop();
        }

        String failed(String why) {
            return "The chat template of " + where + " failed to render: " + why;
        }
    }

    /**
     * Ends a render whose {@link Budget} is spent. An Error, so that jinjava, which turns exceptions in a tag into
     * template errors and goes on with the loop, lets it through to {@link #render} (except out of a macro call,
     * hence {@link Budget#stopped}).
     */
    private static final class Stop extends Error {
        private static final long serialVersionUID = 1L;

        Stop() {
            super("chat template rendering ended: its budget is spent", null, false, false);
        }
    }

    /** jinjava's for tag, charging the render's budget one step for each element of the collection it loops over. */
    private static final class CountedForTag extends ForTag {
        private static final long serialVersionUID = 1L;

        @Override
        public String renderForCollection(TagNode tagNode, JinjavaInterpreter interpreter, List<String> loopVars, Object collection) {
            Budget budget = BUDGET.get();
            if (budget != null) budget.charge(sizeOf(collection));
            return super.renderForCollection(tagNode, interpreter, loopVars, collection);
        }

        /** How many times jinjava's loop over it runs its body (ObjectIterator.getLoop); 1 for an iterable of unknown size. */
        private static long sizeOf(Object collection) {
            if (collection == null) return 0;
            if (collection instanceof Collection<?> c) return c.size();
            if (collection instanceof Map<?, ?> m) return m.size();
            if (collection.getClass().isArray()) return Array.getLength(collection);
            return 1;
        }
    }

    public ChatTemplate(String source, String where) {
        this(source, where, MAX_RENDER_MILLIS);
    }

    /** With another render deadline: the fuzz test's is shorter, so that the fuzzer spends no seconds on one input. */
    ChatTemplate(String source, String where, long maxRenderMillis) {
        this.source = source;
        this.where = where;
        this.maxRenderMillis = maxRenderMillis;
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
        Budget outer = BUDGET.get(), budget = new Budget(where, maxRenderMillis);
        BUDGET.set(budget);
        try {
            result = jinja.renderForResult(source, context);
        } catch (Stop e) {
            throw new IllegalArgumentException(budget.stopped);
        } catch (RuntimeException e) {                   // jinjava's own limits (output, collection sizes) and errors
            throw new IllegalArgumentException(budget.stopped != null ? budget.stopped : budget.failed(
                    e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } finally {
            if (outer == null) BUDGET.remove();
            else BUDGET.set(outer);
        }
        if (budget.stopped != null) throw new IllegalArgumentException(budget.stopped);
        if (result.hasErrors()) throw new IllegalArgumentException(budget.failed(result.getErrors().get(0).getMessage()));
        return result.getOutput();
    }
}
