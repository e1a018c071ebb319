package io.latteflow.flink;

import io.latteflow.model.ContinuousBatcher;
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
final class ContinuousGenerateOperator extends ModelOperator<ImageResult> implements OneInputStreamOperator<ImageRequest, ImageResult> {
    private static final long serialVersionUID = 1L;

    private final GenerateTask task = new GenerateTask();

    /** Admitted, unanswered requests by id, with their arrival time. */
    private transient Map<String, Tuple2<ImageRequest, Long>> open;
    private transient ListState<Tuple2<ImageRequest, Long>> openState;
    private transient ContinuousBatcher<Tuple2<ImageRequest, Long>> batcher;
    private transient boolean tickScheduled;

    ContinuousGenerateOperator(LatteOptions options, OutputTag<DeadLetter> deadLetters) {
        super(options, deadLetters);
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
        openModel(task.name(), () -> batcher == null ? 0 : batcher.inFlight());
        task.open(getKeyedStateStore());
        batcher = new ContinuousBatcher<>(flow, options.maxBatchSize());
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
            refuse(r == null ? null : r.id, task.name(), e.getMessage(), r);
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
}
