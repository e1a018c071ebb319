package io.latteflow.model.train;

import java.util.Random;

/**
 * Which samples step s trains on: the samples in a fresh random order each epoch, cut into consecutive batches
 * that run on across epoch boundaries. The order depends only on the seed and the step, so a resumed run sees
 * exactly the batches an unbroken run would.
 *
 * <pre>{@code
 * BatchOrder order = new BatchOrder(60000, 32, 7);
 * int[] rows = order.rows(1234);
 * }</pre>
 */
public final class BatchOrder {
    private final int size, batch;
    private final long seed;
    private long cachedEpoch = -1;
    private int[] permutation;

    public BatchOrder(int size, int batch, long seed) {
        if (size < 1) throw new IllegalArgumentException("no training samples");
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        this.size = size;
        this.batch = batch;
        this.seed = seed;
    }

    /** Sample indices of step {@code step} (0-based). */
    public int[] rows(long step) {
        int[] rows = new int[batch];
        for (int j = 0; j < batch; j++) {
            long i = step * batch + j;
            rows[j] = epoch(i / size)[(int) (i % size)];
        }
        return rows;
    }

    private int[] epoch(long epoch) {
        if (epoch != cachedEpoch) {
            Random random = seeded(seed, epoch);
            permutation = new int[size];
            for (int i = 0; i < size; i++) permutation[i] = i;
            for (int i = size - 1; i > 0; i--) {
                int j = random.nextInt(i + 1), t = permutation[i];
                permutation[i] = permutation[j];
                permutation[j] = t;
            }
            cachedEpoch = epoch;
        }
        return permutation;
    }

    /**
     * A generator for item {@code index} of stream {@code seed}. The pair goes through a 64-bit finaliser first:
     * {@code java.util.Random}'s first outputs for nearby seeds are nearly equal, so seeding it with seed + step
     * directly would pick the same expert group for long runs of steps.
     */
    static Random seeded(long seed, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + index;
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return new Random(z ^ (z >>> 33));
    }
}
