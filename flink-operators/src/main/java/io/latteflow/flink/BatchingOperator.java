package io.latteflow.flink;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;

/**
 * The micro-batching model operator (keyed). A request is checked on arrival (bad ones go to the dead-letter
 * output at once), then buffered; the buffer runs through the model when it holds {@code max-batch-size}
 * requests, or {@code max-batch-delay} after its first request arrived, whichever comes first. The buffer is
 * operator state, written at every checkpoint: after a failover the restored requests run again and the source
 * replays only what came after the checkpoint, so with an exactly-once sink each request is answered exactly once.
 * Results leave the operator in arrival order.
 *
 * <p>The model is loaded in {@code open} through {@link SharedModels}: one per TaskManager JVM, shared by its
 * subtasks, released in {@code close}.
 */
final class BatchingOperator<IN, OUT> extends ModelOperator<OUT> implements OneInputStreamOperator<IN, OUT> {
    private static final long serialVersionUID = 1L;

    private final LatteTask<IN, OUT> task;

    /** Admitted requests with their arrival time (ms). */
    private transient List<Tuple2<IN, Long>> buffer;
    private transient ListState<Tuple2<IN, Long>> bufferState;
    private transient ScheduledFuture<?> timer;

    BatchingOperator(LatteTask<IN, OUT> task, LatteOptions options, OutputTag<DeadLetter> deadLetters) {
        super(options, deadLetters);
        this.task = task;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        TypeInformation<Tuple2<IN, Long>> type = Types.TUPLE(task.requestType(), Types.LONG);
        bufferState = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("latte-" + task.name() + "-buffer", type));
        buffer = new ArrayList<>();
        for (Tuple2<IN, Long> pending : bufferState.get()) buffer.add(pending);
    }

    @Override
    public void open() throws Exception {
        super.open();
        openModel(task.name(), () -> buffer.size());
        task.open(getKeyedStateStore());
        if (!buffer.isEmpty()) scheduleFlush(now());                       // requests restored from a checkpoint
    }

    @Override
    public void processElement(StreamRecord<IN> element) throws Exception {
        IN request = element.getValue();
        metrics.requests.inc();
        IN admitted;
        try {
            admitted = task.admit(request, options, flow);
        } catch (LatteTask.Refused e) {
            refuse(request, e.getMessage());
            return;
        }
        long now = now();
        buffer.add(Tuple2.of(admitted, now));
        if (buffer.size() >= options.maxBatchSize()) flush();
        else if (timer == null) scheduleFlush(now + options.maxBatchDelay().toMillis());
    }

    private void scheduleFlush(long at) {
        timer = getProcessingTimeService().registerTimer(at, time -> {
            timer = null;
            flush();
        });
    }

    /** Runs everything buffered, in batches of at most max-batch-size. */
    private void flush() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        while (!buffer.isEmpty()) {
            int n = Math.min(buffer.size(), options.maxBatchSize());
            List<Tuple2<IN, Long>> batch = new ArrayList<>(buffer.subList(0, n));
            buffer.subList(0, n).clear();
            runBatch(batch);
        }
    }

    private void runBatch(List<Tuple2<IN, Long>> batch) {
        List<IN> requests = new ArrayList<>(batch.size());
        for (Tuple2<IN, Long> p : batch) requests.add(p.f0);
        long start = System.nanoTime();
        List<OUT> results;
        try {
            results = task.run(flow, requests, options);
        } catch (RuntimeException batchFailed) {
            // One bad request must not take its batch-mates down: run them one by one to find it.
            for (Tuple2<IN, Long> p : batch) runBatch1(p);
            return;
        }
        metrics.batch(batch.size(), (System.nanoTime() - start) / 1e3);
        long done = now();
        for (int i = 0; i < results.size(); i++) emit(results.get(i), batch.size(), done - batch.get(i).f1);
    }

    private void runBatch1(Tuple2<IN, Long> p) {
        long start = System.nanoTime();
        try {
            OUT result = task.run(flow, List.of(p.f0), options).get(0);
            metrics.batch(1, (System.nanoTime() - start) / 1e3);
            emit(result, 1, now() - p.f1);
        } catch (RuntimeException e) {
            refuse(p.f0, "model failed: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    private void emit(OUT result, int batchSize, long latencyMs) {
        task.served(result, batchSize, latencyMs);
        metrics.served(latencyMs);
        output.collect(new StreamRecord<>(result));
    }

    private void refuse(IN request, String reason) {
        refuse(request == null ? null : task.id(request), task.name(), reason, request);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        bufferState.update(buffer);
    }

    /** End of a bounded input: nothing may stay buffered. */
    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }
}
