package io.latteflow.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Every bit of a seed reaches the noise (issue 19): java.util.Random kept 48 bits, so seeds that differed only above
 * bit 48 (-1 and Long.MAX_VALUE, 0 and 2^48) drew identical images.
 */
class SeedBitsTest {
    /** Pairs of seeds equal in their low 48 bits, the ones java.util.Random keeps. */
    private static final long[][] SAME_LOW_48 = {{-1L, Long.MAX_VALUE}, {0L, 1L << 48}, {7L, 7L | (1L << 63)}};

    @Test
    void seedsThatDifferOnlyAboveBit48DrawDifferentImages() {
        // An untrained preset's output heads are zero, so its latents are exactly the seed's noise.
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 1)) {
            for (long[] pair : SAME_LOW_48) {
                GeneratedImage a = flow.generate(GenerationRequest.of("red apple").withSteps(1).withSeed(pair[0]));
                GeneratedImage b = flow.generate(GenerationRequest.of("red apple").withSteps(1).withSeed(pair[1]));
                assertNotEquals(a.latents(), b.latents(), "seeds " + pair[0] + " and " + pair[1] + " drew the same noise");
            }
        }
    }

    @Test
    void answersSampledWithSeedsThatDifferOnlyAboveBit48Differ() {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 3)) {
            VqaRequest q = VqaRequest.of(Nd4j.rand(3, 16, 16), "what is this").withMaxNewTokens(12);
            String low = flow.answer(q.withSampling(1.0, 1.0, -1L));
            assertEquals(low, flow.answer(q.withSampling(1.0, 1.0, -1L)), "the same seed samples the same answer");
            assertNotEquals(low, flow.answer(q.withSampling(1.0, 1.0, Long.MAX_VALUE)));
        }
    }

    /** The noise's definition, for peers that reproduce it (bench/torch_peer.py): SplittableRandom's numbers. */
    @Test
    void theNoiseIsSplitMix64AsSplittableRandomDrawsIt() {
        for (long seed : new long[]{0, 1, -1, Long.MAX_VALUE, 1L << 48, 0x123456789abcdefL}) {
            SeededNoise ours = new SeededNoise(seed);
            SplittableRandom jdk = new SplittableRandom(seed);
            for (int i = 0; i < 5; i++) assertEquals(jdk.nextLong(), ours.nextLong(), "seed " + seed);
            for (int i = 0; i < 5; i++) assertEquals(jdk.nextDouble(), ours.nextDouble(), "seed " + seed);
        }
    }

    @Test
    void theNoiseIsStandardNormal() {
        SeededNoise noise = new SeededNoise(42);
        int n = 200_000;
        double sum = 0, squares = 0;
        for (int i = 0; i < n; i++) {
            double x = noise.nextGaussian();
            sum += x;
            squares += x * x;
        }
        assertEquals(0, sum / n, 0.01, "mean");
        assertEquals(1, squares / n, 0.01, "variance");
    }
}
