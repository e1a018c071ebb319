package io.latteflow.flink;

import io.latteflow.model.LatteFlow;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The models of one JVM (one TaskManager), shared by every subtask and every operator in it that names the same
 * model directory and copy count: loaded by the first {@link #acquire}, closed when the last lease is closed.
 * Weights are read-only at inference, so subtasks may share a copy; more copies only help when the engine can
 * run calls side by side (a GPU with spare memory, or many CPU cores).
 *
 * <pre>{@code
 * try (SharedModels.Lease lease = SharedModels.acquire(Path.of("models/latte-emoji"), 1)) {
 *     LatteFlow flow = lease.copy(subtaskIndex);
 *     flow.generate(GenerationRequest.of("red apple"));
 * }
 * }</pre>
 */
public final class SharedModels {
    private static final Map<Key, Entry> LOADED = new HashMap<>();

    private SharedModels() {
    }

    private record Key(Path dir, int copies) {
    }

    private static final class Entry {
        final List<LatteFlow> copies;
        final double loadMillis;
        int leases;

        Entry(List<LatteFlow> copies, double loadMillis) {
            this.copies = copies;
            this.loadMillis = loadMillis;
        }
    }

    /** A reference to loaded models; closing it releases the reference (the models close with the last one). */
    public static final class Lease implements AutoCloseable {
        private final Key key;
        private final Entry entry;
        private final boolean loadedHere;
        private boolean closed;

        private Lease(Key key, Entry entry, boolean loadedHere) {
            this.key = key;
            this.entry = entry;
            this.loadedHere = loadedHere;
        }

        /** The copy for a subtask: copies are handed out round robin by index. */
        public LatteFlow copy(int index) {
            if (closed) throw new IllegalStateException("lease of " + key.dir + " is closed");
            return entry.copies.get(Math.floorMod(index, entry.copies.size()));
        }

        public int copies() {
            return entry.copies.size();
        }

        /** How long loading took, in ms; 0 when this lease reused models another lease had loaded. */
        public double loadMillis() {
            return loadedHere ? entry.loadMillis : 0;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            release(key);
        }
    }

    /**
     * Loads {@code copies} copies of the model in {@code dir}, or shares them if this JVM has them already.
     *
     * @throws IOException when the directory is not a model; nothing stays loaded then
     */
    public static Lease acquire(Path dir, int copies) throws IOException {
        if (copies < 1) throw new IllegalArgumentException("model copies must be >= 1, got " + copies);
        Key key = new Key(dir.toAbsolutePath().normalize(), copies);
        synchronized (LOADED) {
            Entry e = LOADED.get(key);
            boolean loadedHere = false;
            if (e == null) {
                long start = System.nanoTime();
                List<LatteFlow> flows = new ArrayList<>();
                try {
                    for (int i = 0; i < copies; i++) flows.add(LatteFlow.load(key.dir));
                } catch (IOException | RuntimeException err) {
                    flows.forEach(LatteFlow::close);
                    throw err;
                }
                e = new Entry(List.copyOf(flows), (System.nanoTime() - start) / 1e6);
                LOADED.put(key, e);
                loadedHere = true;
            }
            e.leases++;
            return new Lease(key, e, loadedHere);
        }
    }

    private static void release(Key key) {
        synchronized (LOADED) {
            Entry e = LOADED.get(key);
            if (e == null) return;
            if (--e.leases == 0) {
                LOADED.remove(key);
                e.copies.forEach(LatteFlow::close);
            }
        }
    }

    /** How many leases this JVM holds on the model in {@code dir} with {@code copies} copies (0 = not loaded). */
    public static int leases(Path dir, int copies) {
        synchronized (LOADED) {
            Entry e = LOADED.get(new Key(dir.toAbsolutePath().normalize(), copies));
            return e == null ? 0 : e.leases;
        }
    }
}
