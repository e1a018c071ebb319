package io.latteflow.arrow;

import org.bytedeco.javacpp.Pointer;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@link ScoreListener} that records the peak memory a scoring run holds, sampled after every batch: the live
 * Java heap (heap pools' usage after their latest collection, with a full collection every {@code gcEvery} batches
 * so the figure is current) and the native memory ND4J holds through JavaCPP. Add
 * {@link ScoreResult#peakArrowBytes()} for Arrow's buffers. Used to show that memory stays flat with row count.
 *
 * <pre>{@code
 * MemorySampler memory = new MemorySampler(4, ScoreListener.NONE);
 * ScoreResult r = ArrowScorer.builder(flow).listener(memory).build().score(in, out);
 * long peak = memory.peakHeapBytes() + memory.peakNativeBytes() + r.peakArrowBytes();
 * }</pre>
 */
public final class MemorySampler implements ScoreListener {
    private final int gcEvery;
    private final ScoreListener next;
    private long batches, peakHeap, peakNative;

    /** @param gcEvery run a full collection before every {@code gcEvery}-th sample (0: never); {@code next} gets every call too */
    public MemorySampler(int gcEvery, ScoreListener next) {
        this.gcEvery = gcEvery;
        this.next = next == null ? ScoreListener.NONE : next;
    }

    @Override
    public void started(long totalRows, long resumedRows) {
        sample();
        next.started(totalRows, resumedRows);
    }

    @Override
    public void batchWritten(long rowsDone, int rows, int failed, double millis) {
        batches++;
        if (gcEvery > 0 && batches % gcEvery == 0) System.gc();
        sample();
        next.batchWritten(rowsDone, rows, failed, millis);
    }

    private void sample() {
        peakHeap = Math.max(peakHeap, liveHeapBytes());
        peakNative = Math.max(peakNative, Pointer.totalBytes());
    }

    /** Heap in use after the latest collection of each heap pool (garbage not yet collected is not counted). */
    public static long liveHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() != MemoryType.HEAP) continue;
            MemoryUsage after = pool.getCollectionUsage();
            sum += after != null ? after.getUsed() : pool.getUsage().getUsed();
        }
        return sum;
    }

    public long peakHeapBytes() {
        return peakHeap;
    }

    /** Peak of JavaCPP's tracked native allocations (ND4J's arrays). */
    public long peakNativeBytes() {
        return peakNative;
    }

    /**
     * The process's peak resident set size so far ({@code VmHWM} in {@code /proc/self/status}), or -1 where the
     * system does not say. This, not the scorer's own memory above, is what an operator provisions a machine for:
     * it adds the JVM, the heap's unreclaimed garbage, the native libraries and glibc's arenas (issue 19: 55-66 MB of
     * scorer memory were quoted as "peak" while the process was 2.0-2.65 GB resident).
     */
    public static long residentPeakBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException notLinux) {
            // no /proc: the figure is unknown
        }
        return -1;
    }
}
