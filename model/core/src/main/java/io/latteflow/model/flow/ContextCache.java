package io.latteflow.model.flow;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.vlm.VisionLanguageModel;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The prefilled contexts of recent prompts (every layer's K/V, key mask and image RoPE of one caption), least
 * recently used dropped first. A stream of prompts repeats captions, and every guided request brings the empty
 * caption again; a hit skips that row's VLM prefill. Rows are kept at their own length and are padded back to the
 * batch's longest by {@link GenerationContext#concat}, which the key mask hides.
 *
 * <p>Entries hold the K/V the VLM computed when they were cached: call {@link #clear()} after the VLM's weights
 * change. Thread-safe; the prefill of the misses runs outside the lock.
 *
 * <pre>{@code
 * flow.contextCache().capacity(256);                 // LatteFlow's own cache; 0 (the default) turns it off
 * flow.generate(requests);                           // repeated captions and the empty caption are prefilled once
 * long hits = flow.contextCache().hits();
 * }</pre>
 */
public final class ContextCache {
    private final Map<String, GenerationContext> rows = new LinkedHashMap<>(16, 0.75f, true);
    private final AtomicLong hits = new AtomicLong(), misses = new AtomicLong();
    private int capacity;

    /** @param capacity how many prompts to keep (0 = no caching) */
    public ContextCache(int capacity) {
        capacity(capacity);
    }

    /** Sets how many prompts are kept, dropping the least recently used ones beyond it (0 turns caching off). */
    public synchronized void capacity(int capacity) {
        if (capacity < 0) throw new IllegalArgumentException("context cache capacity must be >= 0, got " + capacity);
        this.capacity = capacity;
        trim();
    }

    /** Raises the capacity to at least {@code capacity} (users sharing a model each ask for what they need). */
    public synchronized void ensureCapacity(int capacity) {
        if (capacity > this.capacity) capacity(capacity);
    }

    public synchronized int capacity() {
        return capacity;
    }

    public synchronized int size() {
        return rows.size();
    }

    /** Rows served from the cache so far. */
    public long hits() {
        return hits.get();
    }

    /** Rows that had to be prefilled so far (while caching is on). */
    public long misses() {
        return misses.get();
    }

    public synchronized void clear() {
        rows.clear();
    }

    /**
     * The generation context of {@code contexts}, one row each in order: cached rows are reused, the others are
     * prefilled together (each distinct one once) and cached. With capacity 0 this is
     * {@link GenerationContext#of(LatteConfig, List, VisionLanguageModel, int)}.
     */
    public GenerationContext contexts(LatteConfig c, List<int[]> contexts, VisionLanguageModel vlm, int padId) {
        if (capacity() == 0) return GenerationContext.of(c, contexts, vlm, padId);
        GenerationContext[] found = new GenerationContext[contexts.size()];
        Map<String, List<Integer>> missing = new LinkedHashMap<>();
        synchronized (this) {
            for (int i = 0; i < found.length; i++) {
                String key = Arrays.toString(contexts.get(i));
                found[i] = rows.get(key);
                if (found[i] == null) missing.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
            }
        }
        hits.addAndGet(found.length - missing.values().stream().mapToLong(List::size).sum());
        if (!missing.isEmpty()) {
            List<int[]> ids = new ArrayList<>();
            missing.values().forEach(at -> ids.add(contexts.get(at.get(0))));
            GenerationContext batch = GenerationContext.of(c, ids, vlm, padId);
            misses.addAndGet(ids.size());
            int r = 0;
            for (Map.Entry<String, List<Integer>> e : missing.entrySet()) {
                GenerationContext row = row(batch, r, ids.get(r).length);
                for (int i : e.getValue()) found[i] = row;
                put(e.getKey(), row);
                r++;
            }
        }
        return GenerationContext.concat(Arrays.asList(found));
    }

    private synchronized void put(String key, GenerationContext row) {
        if (capacity == 0) return;
        rows.put(key, row);
        trim();
    }

    private void trim() {
        var it = rows.entrySet().iterator();
        while (rows.size() > capacity && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    /** Row r of a batch context, cut to its own length (detached from the batch's arrays). */
    private static GenerationContext row(GenerationContext batch, int r, int length) {
        INDArray[] k = new INDArray[batch.keys().length], v = new INDArray[batch.values().length];
        for (int l = 0; l < k.length; l++) {
            k[l] = slice(batch.keys()[l], r, 2, length);                            // (1, kvHeads, length, headDim)
            v[l] = slice(batch.values()[l], r, 2, length);
        }
        return new GenerationContext(k, v, slice(batch.keyMask(), r, 3, length),   // (1, 1, 1, length)
                slice(batch.imageCos(), r, -1, 0), slice(batch.imageSin(), r, -1, 0));
    }

    /** Row r of a (batch, ...) array, its {@code axis} (if >= 0) cut to {@code length}. */
    private static INDArray slice(INDArray a, int r, int axis, int length) {
        INDArrayIndex[] index = new INDArrayIndex[a.rank()];
        Arrays.fill(index, NDArrayIndex.all());
        index[0] = NDArrayIndex.interval(r, r + 1);
        if (axis >= 0) index[axis] = NDArrayIndex.interval(0, length);
        return a.get(index).dup('c');
    }
}
