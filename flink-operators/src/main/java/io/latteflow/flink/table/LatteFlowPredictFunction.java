package io.latteflow.flink.table;

import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.PredictFunction;

import java.util.Collection;
import java.util.List;

/**
 * Synchronous ML_PREDICT with a LaTtE-Flow model: one model call per row, in the operator's thread. Chosen with
 * {@code MAP['async', 'false']}; async (the default) batches rows and is faster.
 *
 * <pre>{@code
 * SELECT * FROM ML_PREDICT(TABLE prompts, MODEL painter, DESCRIPTOR(prompt), MAP['async', 'false']);
 * }</pre>
 */
public final class LatteFlowPredictFunction extends PredictFunction {
    private static final long serialVersionUID = 1L;

    private final ModelSettings settings;
    private transient BoundModel bound;

    LatteFlowPredictFunction(ModelSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(FunctionContext context) {
        bound = BoundModel.open(settings, context);
    }

    @Override
    public Collection<RowData> predict(RowData inputRow) {
        return bound.predictor().predict(List.of(inputRow));
    }

    @Override
    public void close() {
        if (bound != null) bound.close();
        bound = null;
    }
}
