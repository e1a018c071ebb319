package io.latteflow.model;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.management.ManagementFactory;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model that serves or trains for hours must not accumulate memory per call. ND4J M2.1's default SameDiff session
 * kept the id of every array it ever released (about 100 KB of heap per generate call here) and cached released
 * arrays by shape; {@code nn.FlatSession} replaces it. Each check runs a warm-up, then measures live heap after GC and
 * the process's physical memory outside the heap after one block of calls and again after several more: both must stay within a
 * margin (the heap's far below what the old per-call growth added). Memory is asserted, never time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LongRunningMemoryTest {
    static final long MB = 1 << 20;
    /** Before the fix the heap grew ~5 MB over the 40 generate calls measured; collector noise is well under 1 MB. */
    static final long HEAP_MARGIN = 2 * MB;
    /**
     * The process's resident memory also moves with the native allocator's free lists and the collector, so this only
     * catches a gross native leak (e.g. released arrays kept by shape), not a few KB per call.
     */
    static final long PHYSICAL_MARGIN = 96 * MB;

    LatteFlow flow;
    LatteConfig c;

    @BeforeAll
    void setUp() {
        flow = LatteFlow.create(LatteConfig.tiny(), 0);
        c = flow.config();
    }

    @AfterAll
    void tearDown() {
        flow.close();
    }

    /** Live heap after GC, and the process's physical memory outside the Java heap (ND4J's arrays live there). */
    record Memory(long heap, long physical) {
    }

    static Memory measure() throws InterruptedException {
        long heap = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            heap = Math.min(heap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        // Resident memory outside the committed heap: a young generation that grows between collections touches new
        // heap pages, which would otherwise read as growth (seen in the full suite's large test JVM).
        long committed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
        return new Memory(heap, Pointer.physicalBytes() - committed);
    }

    /**
     * Runs {@code call} in a warm-up block, then measures after one block and after {@code blocks - 1} more. Physical
     * memory is also measured half-way: a leak keeps growing, while the allocator's arenas can take one step up
     * (seen once under heavy machine load: +200 MB between the first two measurements, flat afterwards), so the
     * physical check fails only when memory grew in both halves, or grew past twice the margin.
     */
    static void assertFlat(String what, int blocks, int perBlock, Runnable call) throws InterruptedException {
        for (int i = 0; i < perBlock; i++) call.run();
        for (int i = 0; i < perBlock; i++) call.run();
        Memory first = measure();
        int more = (blocks - 1) * perBlock;
        for (int i = 0; i < more / 2; i++) call.run();
        Memory mid = measure();
        for (int i = more / 2; i < more; i++) call.run();
        Memory last = measure();
        System.out.printf("%s: heap %.1f -> %.1f MB, physical %.1f -> %.1f -> %.1f MB over %d more calls%n", what,
                first.heap / 1e6, last.heap / 1e6, first.physical / 1e6, mid.physical / 1e6, last.physical / 1e6, more);
        assertTrue(last.heap <= first.heap + HEAP_MARGIN, what + ": live heap grew " + first + " -> " + last);
        boolean grewTwice = mid.physical > first.physical + PHYSICAL_MARGIN / 2 && last.physical > mid.physical + PHYSICAL_MARGIN / 2;
        assertTrue(!grewTwice && last.physical <= first.physical + 2 * PHYSICAL_MARGIN,
                what + ": physical memory grew " + first + " -> " + mid + " -> " + last);
    }

    @Test
    void generateCallsKeepMemoryFlat() throws Exception {
        List<GenerationRequest> batch = List.of(
                GenerationRequest.of("a red shirt").withSteps(4).withGuidance(2).withSeed(1),
                GenerationRequest.of("a blue shoe").withSteps(4).withGuidance(2).withSeed(2));
        assertFlat("generate", 5, 10, () -> flow.generate(batch));
    }

    @Test
    void answerCallsKeepMemoryFlat() throws Exception {
        INDArray image = Nd4j.rand(3, c.imageSize(), c.imageSize());
        List<VqaRequest> batch = List.of(VqaRequest.of(image, "what is it").withMaxNewTokens(4),
                VqaRequest.of(image, "which color").withMaxNewTokens(4));
        assertFlat("answer", 5, 10, () -> flow.answer(batch));
    }
}
