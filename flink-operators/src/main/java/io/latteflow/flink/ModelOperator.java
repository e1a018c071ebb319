package io.latteflow.flink;

import io.latteflow.model.LatteFlow;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.nio.file.Path;
import java.util.function.IntSupplier;

/**
 * What every LaTtE-Flow operator shares: the model lease taken in {@code open} (one model per TaskManager JVM,
 * on the GPU Flink assigned, if any) and released in {@code close}, the metrics, and the dead-letter output.
 */
abstract class ModelOperator<OUT> extends AbstractStreamOperator<OUT> {
    private static final long serialVersionUID = 1L;

    protected final LatteOptions options;
    private final OutputTag<DeadLetter> deadLetters;

    private transient SharedModels.Lease lease;
    protected transient LatteFlow flow;
    protected transient OperatorMetrics metrics;

    ModelOperator(LatteOptions options, OutputTag<DeadLetter> deadLetters) {
        this.options = options;
        this.deadLetters = deadLetters;
    }

    /** Takes this subtask's model copy and registers the metrics of {@code task} under {@code latte.<task>}. */
    protected void openModel(String task, IntSupplier queueDepth) throws Exception {
        DeviceChoice.apply(getRuntimeContext().getExternalResourceInfos(DeviceChoice.RESOURCE));
        lease = SharedModels.acquire(Path.of(options.model()), options.modelCopies());
        flow = lease.copy(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        flow.contextCache().ensureCapacity(options.contextCacheSize());
        metrics = new OperatorMetrics(getMetricGroup().addGroup("latte").addGroup(task), lease.loadMillis(), queueDepth,
                flow.contextCache());
    }

    protected void refuse(String id, String task, String reason, Object request) {
        metrics.failures.inc();
        output.collect(deadLetters, new StreamRecord<>(DeadLetter.of(id, task, reason, request)));
    }

    protected long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    @Override
    public void close() throws Exception {
        try {
            super.close();
        } finally {
            if (lease != null) lease.close();
            lease = null;
            flow = null;
        }
    }
}
