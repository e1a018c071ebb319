package io.latteflow.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** One set of limits with one default each, and one wording for each refusal, whichever front door asks. */
class RequestLimitsTest {
    private final RequestLimits limits = RequestLimits.DEFAULTS;

    @Test
    void theDefaultsAreTheOnesEveryFrontDoorUses() {
        assertEquals(new RequestLimits(1000, 50.0, 500, 16_777_216L, 256), limits);
    }

    @Test
    void generationRequestsAreRefusedWithTheSameWordsAtEveryBound() {
        assertNull(limits.refusal(GenerationRequest.of("red apple").withSteps(1000).withGuidance(50)));
        assertEquals("prompt is empty", limits.refusal(GenerationRequest.of("  ")));
        assertEquals("prompt has 501 characters, more than the limit of 500", limits.refusal(GenerationRequest.of("a".repeat(501))));
        assertEquals("steps 1001 is outside [1, 1000]", limits.refusal(GenerationRequest.of("a").withSteps(1001)));
        assertEquals("steps 0 is outside [1, 1000]", limits.generationRefusal("a", 0, null));
        assertEquals("guidance 1.0E30 is outside [0, 50.0]", limits.refusal(GenerationRequest.of("a").withGuidance(1e30)));
        assertEquals("guidance NaN is outside [0, 50.0]", limits.generationRefusal("a", null, Double.NaN));
        assertEquals("prompt is null", limits.generationRefusal(null, null, null));
    }

    @Test
    void questionsAreRefusedWithTheSameWords() {
        VqaRequest q = VqaRequest.of(org.nd4j.linalg.factory.Nd4j.zeros(3, 4, 4), "what is this?");
        assertNull(limits.refusal(q));
        assertEquals("question is empty", limits.questionRefusal(""));
        assertEquals("max new tokens 257 is outside [1, 256]", limits.refusal(q.withMaxNewTokens(257)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> limits.check(q.withMaxNewTokens(1000)));
        assertEquals("max new tokens 1000 is outside [1, 256]", e.getMessage());
    }

    @Test
    void limitsThemselvesMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new RequestLimits(0, 50, 500, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new RequestLimits(1, Double.POSITIVE_INFINITY, 500, 1, 1));
    }
}
