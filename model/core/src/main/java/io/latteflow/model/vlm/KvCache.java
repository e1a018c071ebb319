package io.latteflow.model.vlm;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The keys and values of the tokens decoded so far, in arrays that grow by {@link #BLOCK} tokens at a time, with
 * the mask that hides the slots not yet written.
 *
 * <p>Why blocks (issue 18): the decode graph reads the whole cache, so a cache that grew by one token per step gave
 * the graph new input shapes at every step, and a graph replays from a {@link io.latteflow.model.nn.Plan} only for
 * shapes it has seen. With blocks, the shapes change once every {@code BLOCK} tokens. Attention does not depend
 * on where a key sits in the cache (rotary positions are applied before a key is stored), so the unwritten slots
 * only need masking: they get weight exp(MASKED) = 0.
 *
 * <pre>{@code
 * KvCache cache = new KvCache(prefill.keys(), prefill.values(), batch.keyMask(), 16);
 * in.put("pk0", cache.keys(0)); in.put("mask", cache.mask());        // (batch, kvHeads, slots, dh), (batch, 1, 1, slots + 1)
 * cache.append(newKeys, newValues);                                  // each (batch, kvHeads, 1, dh)
 * }</pre>
 */
final class KvCache {
    static final int BLOCK = 16;
    private INDArray[] keys, values;
    private INDArray mask;                                                      // (batch, 1, 1, slots + 1)
    private int used;

    /** Starts from the prompt's keys and values, each (batch, kvHeads, n, dh), and its key mask (batch, 1, 1, n). */
    KvCache(INDArray[] keys, INDArray[] values, INDArray keyMask, int expectedTokens) {
        used = (int) keyMask.size(3);
        int slots = used + roundUp(Math.min(expectedTokens, BLOCK));
        this.keys = new INDArray[keys.length];
        this.values = new INDArray[values.length];
        for (int l = 0; l < keys.length; l++) {
            this.keys[l] = grow(keys[l], slots);
            this.values[l] = grow(values[l], slots);
        }
        mask = Nd4j.valueArrayOf(new long[]{keyMask.size(0), 1, 1, slots + 1}, PromptBatch.MASKED);
        mask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, used)).assign(keyMask);
        mask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(slots)).assign(0);
    }

    INDArray keys(int layer) {
        return keys[layer];
    }

    INDArray values(int layer) {
        return values[layer];
    }

    /** The mask of the cache's slots, then 0 for the token being decoded, which the graph appends to the cache. */
    INDArray mask() {
        return mask;
    }

    /** Stores the decoded token's keys and values, each (batch, kvHeads, 1, dh), in the next slot. */
    void append(INDArray[] k, INDArray[] v) {
        int slots = (int) keys[0].size(2);
        if (used == slots) {
            int grown = slots + BLOCK;
            for (int l = 0; l < keys.length; l++) {
                keys[l] = grow(keys[l], grown);
                values[l] = grow(values[l], grown);
            }
            INDArray m = Nd4j.valueArrayOf(new long[]{mask.size(0), 1, 1, grown + 1}, PromptBatch.MASKED);
            m.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, slots)).assign(
                    mask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, slots)));
            m.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(grown)).assign(0);
            mask = m;
        }
        for (int l = 0; l < keys.length; l++) {
            keys[l].get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(used, used + 1), NDArrayIndex.all()).assign(k[l]);
            values[l].get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(used, used + 1), NDArrayIndex.all()).assign(v[l]);
        }
        mask.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(used)).assign(0);
        used++;
    }

    /** A copy of {@code a} (batch, kvHeads, n, dh) with room for {@code slots} tokens, the new ones zero. */
    private static INDArray grow(INDArray a, int slots) {
        INDArray out = Nd4j.zeros(a.dataType(), a.size(0), a.size(1), slots, a.size(3));
        out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, a.size(2)), NDArrayIndex.all()).assign(a);
        return out;
    }

    private static int roundUp(int n) {
        return Math.max(BLOCK, (n + BLOCK - 1) / BLOCK * BLOCK);
    }
}
