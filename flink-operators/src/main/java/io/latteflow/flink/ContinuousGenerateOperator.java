package io.latteflow.flink;

import io.latteflow.model.ContinuousBatcher;
import io.latteflow.model.LatteFlow;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Caption to image with continuous batching across expert groups ({@code latte.batching: CONTINUOUS}): a request
 * is prefilled when it arrives and joins the images in flight; each model call ({@link ContinuousBatcher#tick()})
 * is one mailbox action, so new records are taken in between calls and join at the next one. The requests not yet
 * answered are operator state at every checkpoint; after a failover they start again from their noise (same seed,
 * same image), and the source replays only what came after the checkpoint.
 */
final class ContinuousGenerateOperator extends AbstractStreamOperator<ImageResult> implements OneInputStreamOperator<ImageRequest, ImageResult> {
    private static final long serialVersionUID = 1L;

    private final GenerateTask task = new GenerateTask();
    private final LatteOptions options;
    private final OutputTag<DeadLetter> deadLetters;

    /** Admitted, unanswered requests by id, with their arrival time. */
    private transient Map<String, Tuple2<ImageRequest, Long>> open;
    private transient ListState<Tuple2<ImageRequest, Long>> openState;
    private transient ContinuousBatcher<Tuple2<ImageRequest, Long>> batcher;
    private transient boolean tickScheduled;
    private transient SharedModels.Lease lease;
    private transient LatteFlow flow;
    private transient OperatorMetrics metrics;

    ContinuousGenerateOperator(LatteOptions options, OutputTag<DeadLetter> deadLetters) {
        this.options = options;
        this.deadLetters = deadLetters;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        TypeInformation<Tuple2<ImageRequest, Long>> type = Types.TUPLE(task.requestType(), Types.LONG);
        openState = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("latte-generate-in-flight", type));
        open = new LinkedHashMap<>();
        for (Tuple2<ImageRequest, Long> p : openState.get()) open.put(p.f0.id, p);
    }

    @Override
    public void open() throws Exception {
        super.open();
        DeviceChoice.apply(getRuntimeContext().getExternalResourceInfos(DeviceChoice.RESOURCE));
        lease = SharedModels.acquire(Path.of(options.model()), options.modelCopies());
        flow = lease.copy(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        batcher = new ContinuousBatcher<>(flow, options.maxBatchSize());
        metrics = new OperatorMetrics(getMetricGroup().addGroup("latte").addGroup(task.name()), lease.loadMillis(), () -> batcher.inFlight());
        for (Tuple2<ImageRequest, Long> p : open.values()) batcher.add(GenerateTask.request(p.f0), p);   // restored: start again
        scheduleTick();
    }

    @Override
    public void processElement(StreamRecord<ImageRequest> element) {
        ImageRequest r = element.getValue();
        metrics.requests.inc();
        ImageRequest admitted;
        try {
            admitted = task.admit(r, options, flow);
        } catch (LatteTask.Refused e) {
            metrics.failures.inc();
            output.collect(deadLetters, new StreamRecord<>(DeadLetter.of(r == null ? null : r.id, task.name(), e.getMessage(), r)));
            return;
        }
        Tuple2<ImageRequest, Long> p = Tuple2.of(admitted, now());
        open.put(admitted.id, p);
        batcher.add(GenerateTask.request(admitted), p);
        scheduleTick();
    }

    private void scheduleTick() {
        if (tickScheduled || batcher.inFlight() == 0) return;
        tickScheduled = true;
        getProcessingTimeService().registerTimer(now(), time -> {
            tickScheduled = false;
            tick();
            scheduleTick();
        });
    }

    private void tick() {
        long before = batcher.imagesAdvanced(), start = System.nanoTime();
        List<ContinuousBatcher.Done<Tuple2<ImageRequest, Long>>> done = batcher.tick();
        int riders = (int) (batcher.imagesAdvanced() - before);
        metrics.batch(riders, (System.nanoTime() - start) / 1e3);
        long t = now();
        for (ContinuousBatcher.Done<Tuple2<ImageRequest, Long>> d : done) {
            ImageRequest r = d.tag().f0;
            open.remove(r.id);
            ImageResult result = GenerateTask.result(r, d.image());
            task.served(result, riders, t - d.tag().f1);
            metrics.served(t - d.tag().f1);
            output.collect(new StreamRecord<>(result));
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        openState.update(List.copyOf(open.values()));
    }

    @Override
    public void finish() throws Exception {
        while (batcher.inFlight() > 0) tick();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            super.close();
        } finally {
            if (lease != null) lease.close();
            lease = null;
        }
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }
}
