package io.latteflow.notebook;

import io.latteflow.model.GenerationRequest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class LatteCommandTest {

    @Test
    void generateOptionsBecomeRequestsWithOneSeedPerImage() {
        LatteCommand.Generate g = (LatteCommand.Generate) LatteCommand.parse(
                List.of("generate", "a", "red apple", "--steps", "6", "--cfg=2.5", "--seed", "10", "--n", "2"), null);
        assertEquals(List.of("a red apple"), g.prompts());
        assertTrue(g.grid(), "two images of one prompt are a grid");
        assertEquals(List.of(new GenerationRequest("a red apple", 6, 2.5, 10), new GenerationRequest("a red apple", 6, 2.5, 11)), g.requests());
    }

    @Test
    void cellGenerateTakesOnePromptPerNonBlankLine() {
        LatteCommand.Generate g = (LatteCommand.Generate) LatteCommand.parse(List.of("generate", "--steps", "3"), "cat\n\n  dog \n");
        assertEquals(List.of("cat", "dog"), g.prompts());
        assertEquals(List.of(3, 3), g.requests().stream().map(GenerationRequest::steps).toList());
    }

    @Test
    void loadWithoutDirectoryMeansTheDefaultModel() {
        assertEquals(new LatteCommand.Load(Optional.empty()), LatteCommand.parse(List.of("load"), null));
        assertEquals(new LatteCommand.Load(Optional.of("m")), LatteCommand.parse(List.of("load", "m"), null));
    }

    @Test
    void badArgumentsAreOneLineMessages() {
        assertMessage("--cfg must be a number >= 0, got '-1'", List.of("generate", "x", "--cfg", "-1"), null);
        assertMessage("--n must be a whole number >= 1, got '0'", List.of("generate", "x", "--n", "0"), null);
        assertMessage("--seed needs a value", List.of("generate", "x", "--seed"), null);
        assertMessage("%latte ask img needs a question after the image, e.g. \"what is this?\"", List.of("ask", "img"), null);
        assertMessage("%%latte only supports generate (one prompt per line), not 'info'", List.of("info"), "body");
        assertMessage("%%latte generate needs at least one prompt line in the cell body", List.of("generate"), "\n \n");
        assertMessage("%latte info takes no arguments, got 'x'", List.of("info", "x"), null);
    }

    /** Issue 19: an unbounded count drew every image in one batch. */
    @Test
    void aCellDrawsAtMostOneGridOfImages() {
        assertEquals(LatteCommand.MAX_IMAGES_PER_CELL, ((LatteCommand.Generate) LatteCommand.parse(
                List.of("generate", "x", "--n", "" + LatteCommand.MAX_IMAGES_PER_CELL), null)).requests().size());
        assertMessage("%latte generate draws at most 64 images per cell (one grid), got 10000; draw more with 'latte generate --count' "
                + "or Arrow scoring", List.of("generate", "x", "--n", "10000"), null);
        assertMessage("%latte generate draws at most 64 images per cell (one grid), got 66; draw more with 'latte generate --count' "
                + "or Arrow scoring", List.of("generate", "--n", "33"), "cat\ndog\n");
    }

    private static void assertMessage(String expected, List<String> args, String body) {
        LatteNotebookException e = assertThrows(LatteNotebookException.class, () -> LatteCommand.parse(args, body));
        assertEquals(expected, e.getMessage());
    }
}
