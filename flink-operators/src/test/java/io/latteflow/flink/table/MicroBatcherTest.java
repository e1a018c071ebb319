package io.latteflow.flink.table;

import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The async path's batching: rows in flight share model calls, each future gets its own row's result. */
class MicroBatcherTest {

    @Test
    void waitingRowsAreSentTogetherUpToTheBatchSizeAndEachGetsItsOwnResult() throws Exception {
        List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        CountDownLatch firstCallStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (MicroBatcher b = new MicroBatcher(4, 1000, rows -> {
            batchSizes.add(rows.size());
            firstCallStarted.countDown();
            await(release);
            List<RowData> out = new ArrayList<>();
            for (RowData r : rows) out.add(GenericRowData.of(r.getInt(0) * 10));
            return out;
        }, "test-batcher")) {
            List<CompletableFuture<Collection<RowData>>> futures = new ArrayList<>();
            futures.add(b.submit(GenericRowData.of(0)));
            assertTrue(firstCallStarted.await(10, TimeUnit.SECONDS));
            // While the model is busy with row 0, six more rows queue up: they go as one full batch and a rest.
            for (int i = 1; i <= 6; i++) futures.add(b.submit(GenericRowData.of(i)));
            release.countDown();
            for (int i = 0; i < futures.size(); i++) {
                RowData r = futures.get(i).get(10, TimeUnit.SECONDS).iterator().next();
                assertEquals(i * 10, r.getInt(0));
            }
            assertEquals(List.of(1, 4, 2), batchSizes);
        }
    }

    @Test
    void aFailingModelCallFailsTheRowsOfThatBatchAndTheBatcherGoesOn() throws Exception {
        try (MicroBatcher b = new MicroBatcher(1, 0, rows -> {
            if (rows.get(0).getInt(0) == 1) throw new IllegalStateException("engine broke");
            return List.of(GenericRowData.of(7));
        }, "test-batcher")) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> b.submit(GenericRowData.of(1)).get(10, TimeUnit.SECONDS));
            assertEquals("engine broke", e.getCause().getMessage());
            assertEquals(7, b.submit(GenericRowData.of(2)).get(10, TimeUnit.SECONDS).iterator().next().getInt(0));
        }
    }

    @Test
    void rowsSubmittedAfterCloseFailInsteadOfHanging() throws Exception {
        MicroBatcher b = new MicroBatcher(2, 0, rows -> rows, "test-batcher");
        b.close();
        assertThrows(ExecutionException.class, () -> b.submit(GenericRowData.of(1)).get(10, TimeUnit.SECONDS));
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
