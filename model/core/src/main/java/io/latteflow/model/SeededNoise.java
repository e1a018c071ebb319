package io.latteflow.model;

/**
 * The random numbers a seed stands for: SplitMix64 (Steele, Lea and Flood 2014, the generator of
 * {@link java.util.SplittableRandom}) for uniform doubles, and the polar method for normals, as
 * {@link java.util.Random#nextGaussian()} computes them. Every bit of the 64-bit seed matters: {@code java.util.Random}
 * keeps only 48, so seeds -1 and {@link Long#MAX_VALUE} drew the same image (issue 19). The generator is written out
 * here, not borrowed from the JDK, so the noise of a seed is fixed by this file alone and an outside peer (such as
 * {@code bench/torch_peer.py}) can reproduce it bit for bit.
 *
 * <pre>{@code
 * SeededNoise noise = new SeededNoise(request.seed());
 * float x = (float) noise.nextGaussian();
 * }</pre>
 *
 * Not thread-safe; one instance per image.
 */
final class SeededNoise {
    /** SplitMix64's increment, the odd integer nearest 2^64 / golden ratio. */
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private long state;
    private double nextNextGaussian;
    private boolean haveNextNextGaussian;

    SeededNoise(long seed) {
        this.state = seed;
    }

    /**
     * A seed for another generator that keeps fewer bits than 64 (the answer sampler's {@code java.util.Random}):
     * SplitMix64's bijective finaliser of {@code seed}, so that seeds differing only in their high bits do not
     * collide in the bits that generator keeps.
     */
    static long mix(long seed) {
        return mix64(seed + GOLDEN_GAMMA);
    }

    /** The next 64 uniform random bits. */
    long nextLong() {
        state += GOLDEN_GAMMA;
        return mix64(state);
    }

    /** Uniform in [0, 1) with 53 random bits, as {@code SplittableRandom.nextDouble()}. */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Standard normal: Marsaglia's polar method, two values per accepted pair, with StrictMath as java.util.Random. */
    double nextGaussian() {
        if (haveNextNextGaussian) {
            haveNextNextGaussian = false;
            return nextNextGaussian;
        }
        double v1, v2, s;
        do {
            v1 = 2 * nextDouble() - 1;
            v2 = 2 * nextDouble() - 1;
            s = v1 * v1 + v2 * v2;
        } while (s >= 1 || s == 0);
        double multiplier = StrictMath.sqrt(-2 * StrictMath.log(s) / s);
        nextNextGaussian = v2 * multiplier;
        haveNextNextGaussian = true;
        return v1 * multiplier;
    }

    /** Stafford's variant 13 finaliser, as SplittableRandom's mix64. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
