package io.latteflow.flink.table;

import io.latteflow.flink.SharedModels;
import org.apache.flink.metrics.Counter;
import org.apache.flink.table.functions.FunctionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A predict function's hold on the model: a {@link SharedModels} lease (so every subtask of a TaskManager shares
 * one loaded checkpoint), the copy for this subtask, and the counter of rows that got no result.
 *
 * <pre>{@code
 * BoundModel bound = BoundModel.open(settings, functionContext);
 * List<RowData> out = bound.predictor().predict(rows);
 * bound.close();
 * }</pre>
 */
final class BoundModel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BoundModel.class);
    /** Metric (per subtask) of rows answered with a null result because the row was unusable. */
    static final String BAD_ROWS_METRIC = "latteflowBadRows";

    private final SharedModels.Lease lease;
    private final RowPredictor predictor;

    private BoundModel(SharedModels.Lease lease, RowPredictor predictor) {
        this.lease = lease;
        this.predictor = predictor;
    }

    static BoundModel open(ModelSettings s, FunctionContext context) {
        Path dir = Path.of(s.checkpoint());
        // Checked here rather than left to the loader so the job failure names the option and the model.
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("latte-flow model " + s.model() + ": model directory '" + dir
                    + "' (option '" + LatteFlowModelOptions.MODEL.key() + "') does not exist or is not a directory");
        }
        SharedModels.Lease lease;
        try {
            lease = SharedModels.acquire(dir, s.copies());
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("latte-flow model " + s.model() + ": cannot load the model in '" + dir
                    + "' (option '" + LatteFlowModelOptions.MODEL.key() + "'): " + e.getMessage(), e);
        }
        int subtask = context.getTaskInfo().getIndexOfThisSubtask();
        Counter badRows = context.getMetricGroup().counter(BAD_ROWS_METRIC);
        RowPredictor predictor = new RowPredictor(s, lease.copy(subtask), why -> {
            // The first bad row is logged so the cause is findable; the rest only count, to keep logs readable.
            if (badRows.getCount() == 0) {
                LOG.warn("latte-flow model {}: a row got a null result ({}); later ones are counted in metric {}",
                        s.model(), why, BAD_ROWS_METRIC);
            }
            badRows.inc();
        });
        LOG.info("latte-flow model {} ({}) on subtask {}: checkpoint {} ({} ms to load, 0 = shared)", s.model(),
                s.task().name().toLowerCase(), subtask, dir, Math.round(lease.loadMillis()));
        return new BoundModel(lease, predictor);
    }

    RowPredictor predictor() {
        return predictor;
    }

    @Override
    public void close() {
        lease.close();
    }
}
