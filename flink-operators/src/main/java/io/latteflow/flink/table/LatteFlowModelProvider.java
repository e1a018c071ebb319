package io.latteflow.flink.table;

import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.ml.PredictRuntimeProvider;

/**
 * A LaTtE-Flow checkpoint as a Flink SQL model. It offers both runtimes; ML_PREDICT uses the async, batching one
 * unless the query says {@code MAP['async', 'false']}.
 *
 * <pre>{@code
 * CREATE MODEL painter INPUT (prompt STRING) OUTPUT (image BYTES)
 *   WITH ('provider' = 'latte-flow', 'checkpoint' = '/models/latte');
 * SELECT prompt, image FROM ML_PREDICT(TABLE prompts, MODEL painter, DESCRIPTOR(prompt));
 * }</pre>
 */
public final class LatteFlowModelProvider implements PredictRuntimeProvider, AsyncPredictRuntimeProvider {
    private final ModelSettings settings;

    LatteFlowModelProvider(ModelSettings settings) {
        this.settings = settings;
    }

    @Override
    public PredictFunction createPredictFunction(ModelProvider.Context context) {
        return new LatteFlowPredictFunction(settings);
    }

    @Override
    public AsyncPredictFunction createAsyncPredictFunction(ModelProvider.Context context) {
        return new LatteFlowAsyncPredictFunction(settings);
    }

    /** Settings are an immutable record, so sharing them is a deep copy. */
    @Override
    public ModelProvider copy() {
        return new LatteFlowModelProvider(settings);
    }
}
