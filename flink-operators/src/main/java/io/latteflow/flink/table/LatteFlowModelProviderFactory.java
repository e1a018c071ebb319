package io.latteflow.flink.table;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.ml.ModelProvider;

import java.util.Set;

/**
 * Makes {@code 'provider' = 'latte-flow'} models: found by Flink through
 * {@code META-INF/services/org.apache.flink.table.factories.Factory} when this jar is on the classpath. Options
 * and schemas are checked when a query using the model is planned; the checkpoint is opened when the job runs.
 *
 * <pre>{@code
 * CREATE MODEL reader INPUT (image BYTES, question STRING) OUTPUT (answer STRING, error STRING)
 *   WITH ('provider' = 'latte-flow', 'checkpoint' = '/models/latte', 'task' = 'vqa', 'max-new-tokens' = '8');
 * SELECT id, answer, error FROM ML_PREDICT(TABLE photos, MODEL reader, DESCRIPTOR(image, question));
 * }</pre>
 */
public final class LatteFlowModelProviderFactory implements ModelProviderFactory {
    public static final String IDENTIFIER = "latte-flow";

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(LatteFlowModelOptions.MODEL);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(LatteFlowModelOptions.TASK, LatteFlowModelOptions.STEPS, LatteFlowModelOptions.GUIDANCE,
                LatteFlowModelOptions.SEED, LatteFlowModelOptions.MAX_NEW_TOKENS, LatteFlowModelOptions.MAX_IMAGE_PIXELS,
                LatteFlowModelOptions.MODEL_COPIES, LatteFlowModelOptions.MAX_BATCH_SIZE, LatteFlowModelOptions.MAX_BATCH_DELAY);
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper = FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validate();
        ReadableConfig o = helper.getOptions();
        String model = context.getObjectIdentifier().asSummaryString();
        ResolvedCatalogModel catalogModel = context.getCatalogModel();

        String checkpoint = o.get(LatteFlowModelOptions.MODEL);
        if (checkpoint.isBlank()) throw invalid(model, LatteFlowModelOptions.MODEL, "must name a model directory");
        Integer steps = o.get(LatteFlowModelOptions.STEPS);
        if (steps != null && steps < 1) throw invalid(model, LatteFlowModelOptions.STEPS, "must be >= 1, got " + steps);
        Double guidance = o.get(LatteFlowModelOptions.GUIDANCE);
        if (guidance != null && !(guidance >= 0 && !guidance.isInfinite())) {
            throw invalid(model, LatteFlowModelOptions.GUIDANCE, "must be a finite number >= 0, got " + guidance);
        }
        int maxNewTokens = atLeastOne(o, LatteFlowModelOptions.MAX_NEW_TOKENS, model);
        long maxPixels = o.get(LatteFlowModelOptions.MAX_IMAGE_PIXELS);
        if (maxPixels < 1) throw invalid(model, LatteFlowModelOptions.MAX_IMAGE_PIXELS, "must be >= 1, got " + maxPixels);
        int copies = atLeastOne(o, LatteFlowModelOptions.MODEL_COPIES, model);
        int batchSize = atLeastOne(o, LatteFlowModelOptions.MAX_BATCH_SIZE, model);
        long batchTimeout = o.get(LatteFlowModelOptions.MAX_BATCH_DELAY).toMillis();
        if (batchTimeout < 0) throw invalid(model, LatteFlowModelOptions.MAX_BATCH_DELAY, "must not be negative");

        LatteFlowTask task = o.get(LatteFlowModelOptions.TASK);
        ModelColumns columns = ModelColumns.of(task, catalogModel.getResolvedInputSchema(),
                catalogModel.getResolvedOutputSchema(), model);
        return new LatteFlowModelProvider(new ModelSettings(model, checkpoint, task, steps, guidance,
                o.get(LatteFlowModelOptions.SEED), maxNewTokens, maxPixels, copies, batchSize, batchTimeout, columns));
    }

    private static int atLeastOne(ReadableConfig o, ConfigOption<Integer> option, String model) {
        int v = o.get(option);
        if (v < 1) throw invalid(model, option, "must be >= 1, got " + v);
        return v;
    }

    private static ValidationException invalid(String model, ConfigOption<?> option, String why) {
        return new ValidationException("latte-flow model " + model + ": option '" + option.key() + "' " + why);
    }
}
