package io.latteflow.model.flow;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.List;

import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContextCacheTest {
    /** Two captions of different lengths, one repeated, all guided (so the empty caption rides along). */
    static final List<GenerationRequest> BATCH = List.of(
            GenerationRequest.of("red apple on a long blue table").withSteps(4).withGuidance(3).withSeed(1),
            GenerationRequest.of("cat").withSteps(4).withGuidance(3).withSeed(2),
            GenerationRequest.of("red apple on a long blue table").withSteps(4).withGuidance(3).withSeed(3));
    LatteFlow flow;

    @BeforeAll
    void load() {
        flow = LatteFlow.create(LatteConfig.tiny(), 3);
        // a fresh model's zero-initialised output projections ignore the caption; random ones make images depend on it
        flow.model().params().all().forEach((name, w) -> {
            if (name.startsWith("gen.") && w.amaxNumber().doubleValue() == 0) w.assign(Nd4j.randn(w.dataType(), w.shape()).muli(0.2));
        });
    }

    @AfterAll
    void close() {
        flow.close();
    }

    @BeforeEach
    void off() {
        flow.contextCache().capacity(0);
        flow.contextCache().clear();
    }

    @Test
    void imagesFromCachedContextsEqualImagesFromAFreshPrefill() {
        List<GeneratedImage> fresh = flow.generate(BATCH);
        assertTrue(fresh.get(0).latents().sub(fresh.get(1).latents()).amaxNumber().doubleValue() > 1e-3, "images depend on their caption");
        flow.contextCache().capacity(16);
        List<GeneratedImage> first = flow.generate(BATCH), second = flow.generate(BATCH);
        for (int i = 0; i < BATCH.size(); i++) {
            assertClose(fresh.get(i), first.get(i));
            assertClose(fresh.get(i), second.get(i));
        }
    }

    @Test
    void eachDistinctCaptionAndTheEmptyCaptionArePrefilledOnce() {
        ContextCache cache = flow.contextCache();
        cache.capacity(16);
        long misses = cache.misses(), hits = cache.hits();
        flow.generate(BATCH);
        assertEquals(3, cache.misses() - misses, "the two captions and the empty one");
        assertEquals(0, cache.hits() - hits);
        flow.generate(BATCH);
        assertEquals(3, cache.misses() - misses, "nothing new to prefill");
        assertEquals(6, cache.hits() - hits, "three caption rows and their three empty-caption twins");
        assertEquals(3, cache.size());
    }

    @Test
    void theLeastRecentlyUsedCaptionIsDroppedPastCapacity() {           // words of the tiny model's vocabulary
        ContextCache cache = flow.contextCache();
        cache.capacity(2);
        for (String p : List.of("cat", "dog", "cat", "cow")) flow.generate(GenerationRequest.of(p).withSteps(2).withGuidance(1));
        assertEquals(2, cache.size());
        long misses = cache.misses();
        flow.generate(GenerationRequest.of("cat").withSteps(2).withGuidance(1));
        assertEquals(misses, cache.misses(), "'cat' was used after 'dog', so 'dog' went");
        flow.generate(GenerationRequest.of("dog").withSteps(2).withGuidance(1));
        assertEquals(misses + 1, cache.misses());
    }

    @Test
    void aNegativeCapacityIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> flow.contextCache().capacity(-1));
        assertTrue(e.getMessage().contains("capacity"), e.getMessage());
    }

    private static void assertClose(GeneratedImage a, GeneratedImage b) {
        double diff = a.latents().sub(b.latents()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-4, "latents differ by " + diff);
    }
}
