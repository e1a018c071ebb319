package io.latteflow.notebook;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 19 in a notebook: a request the model would refuse part-way is one line of error text before any work (no
 * progress display, no sampling, no image read), in the core's words, never an exception's type name.
 */
class NotebookBadInputTest {
    private static final int CONTEXT = LatteConfig.tiny().maxContextTokens();

    @TempDir
    Path dir;

    private final List<Object> shown = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    private final List<Object> live = new ArrayList<>();
    private final NotebookOutput out = new NotebookOutput() {
        public void show(Object value) {
            shown.add(value);
        }

        public LiveDisplay live(Object initial) {
            live.add(initial);
            return live::add;
        }

        public void error(String line) {
            errors.add(line);
        }
    };

    private LatteMagics magics(LatteSession session) {
        session.use(LatteFlow.create(LatteConfig.tiny(), 2), "tiny");
        return new LatteMagics(session, out, name -> Optional.empty());
    }

    private void assertRefusedBeforeWork(Object result, String message) {
        assertNull(result);
        assertEquals(List.of("latte: " + message), errors);
        assertEquals(List.of(), live, "no progress display: nothing was sampled");
        assertEquals(List.of(), shown);
        errors.clear();
    }

    @Test
    void aPromptLongerThanTheModelsContextIsRefusedBeforeTheProgressDisplay() {
        String prompt = "red ".repeat(CONTEXT);                  // 192 characters, within the 500 of every front door
        try (LatteSession session = new LatteSession()) {
            LatteMagics latte = magics(session);
            assertRefusedBeforeWork(latte.run(List.of("generate", prompt, "--steps", "2"), null),
                    "prompt is " + (CONTEXT + 2) + " tokens long, more than the model's " + CONTEXT);
            assertRefusedBeforeWork(latte.run(List.of("generate", "--steps", "2"), "red apple\n" + prompt + "\n"),
                    "prompt is " + (CONTEXT + 2) + " tokens long, more than the model's " + CONTEXT + " (prompt 'red red red red red red red red red r...')");
            assertRefusedBeforeWork(latte.run(List.of("generate", "x".repeat(600)), null),
                    "prompt has 600 characters, more than the limit of 500");
            assertRefusedBeforeWork(latte.run(List.of("generate", "red apple", "--steps", "5000"), null),
                    "steps 5000 is outside [1, 1000]");
            assertTrue(session.last().isEmpty(), "nothing was drawn");
        }
    }

    @Test
    void aBadQuestionIsRefusedBeforeTheImageIsRead() throws Exception {
        try (LatteSession session = new LatteSession()) {
            LatteMagics latte = magics(session);
            String missing = dir.resolve("missing.png").toString();      // would be "no image variable or file named ..."
            assertRefusedBeforeWork(latte.run(List.of("ask", missing, "why ".repeat(200)), null),
                    "question has 800 characters, more than the limit of 500");
            assertRefusedBeforeWork(latte.run(List.of("ask", missing, " "), null), "question is empty");
            int tokens = session.flow().questionPrompt("why ".repeat(CONTEXT).strip()).length;
            assertRefusedBeforeWork(latte.run(List.of("ask", missing, "why ".repeat(CONTEXT).strip()), null),
                    "the question's prompt (image and question) is " + tokens + " tokens long, more than the model's " + CONTEXT);
        }
    }

    @Test
    void aDecompressionBombIsRefusedBeforeDecoding() throws Exception {
        Path bomb = Files.write(dir.resolve("bomb.png"), ImageRefsTest.bomb());
        try (LatteSession session = new LatteSession()) {
            LatteMagics latte = magics(session);
            assertNull(latte.run(List.of("answer", bomb.toString(), "what is this?"), null));
            assertEquals(1, errors.size(), errors.toString());
            assertTrue(errors.get(0).startsWith("latte: " + bomb + " is refused: image declares 5000x5000 pixels"), errors.get(0));
        }
    }
}
