package io.latteflow.flink.table;

import java.io.Serializable;

/**
 * Everything a predict function needs at runtime, read from the model's options when the query is planned. It
 * travels inside the job graph, hence plain serializable values (a String path, not a {@code Path}).
 *
 * <pre>{@code
 * ModelSettings s = new ModelSettings("`c`.`d`.`m`", "/models/latte", LatteFlowTask.GENERATE, 20, null, 7L,
 *         16, 16_000_000L, 1, 8, 20L, columns);
 * }</pre>
 *
 * @param steps    null: the checkpoint's default
 * @param guidance null: the checkpoint's default
 */
record ModelSettings(String model, String checkpoint, LatteFlowTask task, Integer steps, Double guidance, long seed,
                     int maxNewTokens, long maxImagePixels, int copies, int batchSize, long batchTimeoutMillis,
                     ModelColumns columns) implements Serializable {
}
