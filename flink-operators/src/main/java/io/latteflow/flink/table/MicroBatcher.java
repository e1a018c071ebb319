package io.latteflow.flink.table;

import org.apache.flink.table.data.RowData;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Groups the rows that async ML_PREDICT has in flight into model batches: one worker thread takes the first waiting
 * row, waits up to the timeout for more (at most {@code batchSize} in all), and runs them in one model call. One
 * batched call is much cheaper than the same rows one by one, since the prefill and every sampling step run once.
 *
 * <pre>{@code
 * MicroBatcher b = new MicroBatcher(8, 20, predictor::predict, "latte-flow-batcher-0");
 * CompletableFuture<Collection<RowData>> out = b.submit(row);
 * b.close();
 * }</pre>
 */
final class MicroBatcher implements AutoCloseable {
    private record Pending(RowData row, CompletableFuture<Collection<RowData>> result) {
    }

    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final int batchSize;
    private final long timeoutNanos;
    private final Function<List<RowData>, List<RowData>> predict;
    private final Thread worker;
    private volatile boolean closed;

    MicroBatcher(int batchSize, long timeoutMillis, Function<List<RowData>, List<RowData>> predict, String name) {
        this.batchSize = batchSize;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.predict = predict;
        this.worker = new Thread(this::loop, name);
        worker.setDaemon(true);
        worker.start();
    }

    CompletableFuture<Collection<RowData>> submit(RowData row) {
        CompletableFuture<Collection<RowData>> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(closedError());
        } else {
            queue.add(new Pending(row, result));
        }
        return result;
    }

    private void loop() {
        List<Pending> batch = new ArrayList<>(batchSize);
        try {
            while (!closed) {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                long deadline = System.nanoTime() + timeoutNanos;
                while (batch.size() < batchSize) {
                    Pending next = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    if (next == null) break;
                    batch.add(next);
                }
                run(batch);
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            batch.forEach(p -> p.result().completeExceptionally(closedError()));
        }
    }

    private void run(List<Pending> batch) {
        List<RowData> rows = new ArrayList<>(batch.size());
        for (Pending p : batch) rows.add(p.row());
        try {
            List<RowData> out = predict.apply(rows);
            for (int i = 0; i < batch.size(); i++) batch.get(i).result().complete(List.of(out.get(i)));
        } catch (Throwable t) {
            // Not a row's fault (RowPredictor answers those): fail the rows so Flink fails or restarts the job.
            for (Pending p : batch) p.result().completeExceptionally(t);
            if (t instanceof Error e) throw e;
        }
    }

    /** Not a CancellationException: Flink should see an ordinary failure of the rows cut off by shutdown. */
    private static IllegalStateException closedError() {
        return new IllegalStateException("latte-flow batcher is closed");
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        worker.interrupt();
        worker.join(TimeUnit.SECONDS.toMillis(30));
        for (Pending p; (p = queue.poll()) != null; ) {
            p.result().completeExceptionally(closedError());
        }
    }
}
