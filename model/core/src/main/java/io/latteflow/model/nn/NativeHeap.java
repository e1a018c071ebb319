package io.latteflow.model.nn;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps glibc from holding on to the native memory ND4J frees: fixes malloc's mmap threshold in-process, before the
 * first graph runs.
 *
 * <p>glibc serves a block of at least {@code M_MMAP_THRESHOLD} (128 KB) with its own mapping, returned to the system
 * when freed; but each time such a block is freed the threshold rises to its size (up to 32 MB), and from then on
 * blocks below it come from the heap arenas, where freed memory stays with the process. ND4J allocates and frees
 * arrays of a few MB all the time (a new plan for every new input shape: the understanding stage's batches differ in
 * length at nearly every step), so the threshold climbs at once and the process only grows: the emoji model's
 * understanding stage reached 13 GB resident after 545 steps and was killed by the kernel's out-of-memory killer
 * (issue 19/20, 2026-12-07; -Xmx3g changed nothing: 7.2 -> 8.8 -> 10.3 GB a minute apart). With the threshold fixed
 * ({@code mallopt(M_MMAP_THRESHOLD, 128 KB)}, which also turns the rising off; glibc's
 * {@code MALLOC_MMAP_THRESHOLD_=131072} in the environment does the same) the same run stays at 2.8-3.5 GB.
 *
 * <p>{@code -Dlatte.malloc.mmapThreshold=BYTES} chooses another threshold, {@code =0} leaves glibc's default; a
 * {@code MALLOC_MMAP_THRESHOLD_} the user set wins. Not glibc (another OS or libc): nothing is done.
 *
 * <p>Smaller blocks still come from the arenas, and a process that drops whole models (a Flink TaskManager that
 * lives through job restarts) leaves them there in pieces: the Flink soak's surviving TaskManager grew about 200 MB a
 * minute, and {@code malloc_trim(0)} after a full GC gave back 470-590 MB of it (docs/RELIABILITY.md). JavaCPP 1.5.7
 * has no binding of it, so {@link #configure()} also starts a daemon thread that calls {@code malloc_trim(0)} through
 * JNA every {@code latte.malloc.trimSeconds} (60; 0 turns it off).
 */
public final class NativeHeap {
    private static final Logger LOG = LoggerFactory.getLogger(NativeHeap.class);
    private static final int M_MMAP_THRESHOLD = -3;                     // glibc's malloc.h
    private static final long DEFAULT_THRESHOLD = 128 * 1024;
    private static volatile String state = "not configured";

    private NativeHeap() {
    }

    /** Fixes the mmap threshold once per process (idempotent); returns what was done, for logs and tests. */
    public static synchronized String configure() {
        if (!state.equals("not configured")) return state;
        long threshold = Long.getLong("latte.malloc.mmapThreshold", DEFAULT_THRESHOLD);
        if (System.getenv("MALLOC_MMAP_THRESHOLD_") != null) {
            state = "left to MALLOC_MMAP_THRESHOLD_=" + System.getenv("MALLOC_MMAP_THRESHOLD_");
        } else if (threshold <= 0) {
            state = "glibc's default (-Dlatte.malloc.mmapThreshold=0)";
        } else if (threshold > Integer.MAX_VALUE) {
            state = "glibc's default (-Dlatte.malloc.mmapThreshold=" + threshold + " is more than an int)";
        } else {
            try {
                int ok = Native.load("c", LibC.class).mallopt(M_MMAP_THRESHOLD, (int) threshold);
                state = ok == 1 ? "mmap threshold fixed at " + threshold + " bytes" : "mallopt refused " + threshold;
            } catch (RuntimeException | LinkageError e) {
                state = "not glibc (" + e.getClass().getSimpleName() + "): left as is";
            }
        }
        long every = Long.getLong("latte.malloc.trimSeconds", 60);
        if (every > 0 && !state.startsWith("not glibc")) {
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        Thread.sleep(every * 1000);
                        trim();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "latte-malloc-trim");
            t.setDaemon(true);
            t.start();
            state += "; malloc_trim every " + every + " s";
        }
        LOG.debug("Native heap: {}", state);
        return state;
    }

    /** Returns the free memory at the top of glibc's heaps and in its arenas' free pages to the system; false if none or not glibc. */
    public static boolean trim() {
        try {
            return Native.load("c", LibC.class).malloc_trim(0) == 1;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private interface LibC extends Library {
        int mallopt(int param, int value);

        int malloc_trim(long pad);
    }
}
