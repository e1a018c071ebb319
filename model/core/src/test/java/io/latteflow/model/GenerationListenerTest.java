package io.latteflow.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GenerationListenerTest {

    @Test
    void listenerSeesEveryStepAndPreviewsOnTheRequestedStepsWithoutChangingTheImages() {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 3)) {
            List<GenerationRequest> requests = List.of(
                    GenerationRequest.of("red apple").withSteps(6).withSeed(1),
                    GenerationRequest.of("blue car").withSteps(6).withGuidance(1.0).withSeed(2));
            List<GeneratedImage> quiet = flow.generate(requests);
            List<GenerationProgress> seen = new ArrayList<>();
            List<GeneratedImage> watched = flow.generate(requests, GenerationListener.withPreviews(4, seen::add));

            assertEquals(List.of(1, 2, 3, 4, 5, 6), seen.stream().map(GenerationProgress::step).toList());
            assertTrue(seen.stream().allMatch(p -> p.steps() == 6 && p.requests().equals(List.of(0, 1))));
            assertEquals(List.of(4, 6), seen.stream().filter(GenerationProgress::hasPreview).map(GenerationProgress::step).toList());
            for (int i = 0; i < requests.size(); i++) assertEquals(quiet.get(i).pixels(), watched.get(i).pixels());
        }
    }

    @Test
    void lastStepPreviewIsTheFinishedImage() {
        try (LatteFlow flow = withNonZeroVelocity(LatteFlow.create(LatteConfig.tiny(), 4))) {
            GenerationRequest r = GenerationRequest.of("green frog").withSteps(3).withSeed(5);
            List<BufferedImage> last = new ArrayList<>();
            GeneratedImage img = flow.generate(List.of(r), GenerationListener.withPreviews(1, p -> {
                if (p.step() == p.steps()) last.addAll(p.previews());
            })).get(0);
            assertEquals(1, last.size());
            assertEquals(8, last.get(0).getWidth());
            assertSamePixels(img.image(), last.get(0));
        }
    }

    @Test
    void noListenerMeansNoPreviewsAreDecoded() {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 4)) {
            List<GenerationProgress> seen = new ArrayList<>();
            flow.generate(List.of(GenerationRequest.of("cat").withSteps(2)), seen::add);
            assertEquals(2, seen.size());
            assertTrue(seen.stream().noneMatch(GenerationProgress::hasPreview));
        }
    }

    /** An untrained model's output projection is zero (v = 0, every estimate equals x); give it a velocity to extrapolate along. */
    private static LatteFlow withNonZeroVelocity(LatteFlow flow) {
        flow.model().params().all().forEach((name, w) -> {
            if (name.matches("gen\\.groups\\.\\d+\\.proj_out\\.weight")) w.assign(Nd4j.randn(42L, w.shape()).muli(0.5));
        });
        return flow;
    }

    private static void assertSamePixels(BufferedImage a, BufferedImage b) {
        for (int y = 0; y < a.getHeight(); y++)
            for (int x = 0; x < a.getWidth(); x++) {
                int pa = a.getRGB(x, y), pb = b.getRGB(x, y);
                for (int s = 0; s < 24; s += 8) assertTrue(Math.abs(((pa >> s) & 0xff) - ((pb >> s) & 0xff)) <= 1, "pixel " + x + "," + y);
            }
    }
}
