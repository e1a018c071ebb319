package io.latteflow.flink.table;

import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;

import java.util.Collection;
import java.util.concurrent.CompletableFuture;

/**
 * Asynchronous ML_PREDICT with a LaTtE-Flow model: rows in flight are grouped into batches of up to
 * {@code 'batch-size'} and sent to the model together. The planner picks it unless the query asks for
 * {@code MAP['async', 'false']}.
 *
 * <pre>{@code
 * SELECT * FROM ML_PREDICT(TABLE prompts, MODEL painter, DESCRIPTOR(prompt),
 *                          MAP['async', 'true', 'max-concurrent-operations', '16']);
 * }</pre>
 */
public final class LatteFlowAsyncPredictFunction extends AsyncPredictFunction {
    private static final long serialVersionUID = 1L;

    private final ModelSettings settings;
    private transient BoundModel bound;
    private transient MicroBatcher batcher;

    LatteFlowAsyncPredictFunction(ModelSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(FunctionContext context) {
        bound = BoundModel.open(settings, context);
        batcher = new MicroBatcher(settings.batchSize(), settings.batchTimeoutMillis(), bound.predictor()::predict,
                "latte-flow-batcher-" + context.getTaskInfo().getTaskNameWithSubtasks());
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData inputRow) {
        return batcher.submit(inputRow);
    }

    @Override
    public void close() throws Exception {
        // The batcher first, so no model call is running when the lease may close the model.
        if (batcher != null) batcher.close();
        if (bound != null) bound.close();
        batcher = null;
        bound = null;
    }
}
