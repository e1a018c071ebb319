package io.latteflow.flink;

import io.latteflow.model.flow.ContextCache;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.util.function.IntSupplier;

/**
 * The operator's metrics, named like Apache Beam's RunInference metrics so existing dashboards read them:
 * {@code num_inferences}, {@code num_failed_inferences}, {@code inference_request_batch_size},
 * {@code inference_batch_latency_micro_secs}, {@code load_model_latency_milli_secs}; plus
 * {@code num_requests}, {@code num_batches}, {@code request_latency_ms} and {@code queue_depth}, and the model
 * copy's {@code context_cache_hits} and {@code context_cache_misses} (caption rows, over every operator sharing it).
 * They live under the operator's metric group, in {@code latte.<task>}.
 */
final class OperatorMetrics {
    private static final int WINDOW = 1000;

    final Counter requests;
    final Counter inferences;
    final Counter failures;
    final Counter batches;
    final Histogram batchSize;
    final Histogram batchLatencyMicros;
    final Histogram requestLatencyMs;

    OperatorMetrics(MetricGroup group, double loadMillis, IntSupplier queueDepth, ContextCache contexts) {
        requests = group.counter("num_requests");
        inferences = group.counter("num_inferences");
        failures = group.counter("num_failed_inferences");
        batches = group.counter("num_batches");
        batchSize = group.histogram("inference_request_batch_size", new DescriptiveStatisticsHistogram(WINDOW));
        batchLatencyMicros = group.histogram("inference_batch_latency_micro_secs", new DescriptiveStatisticsHistogram(WINDOW));
        requestLatencyMs = group.histogram("request_latency_ms", new DescriptiveStatisticsHistogram(WINDOW));
        long load = Math.round(loadMillis);
        group.gauge("load_model_latency_milli_secs", (Gauge<Long>) () -> load);
        group.gauge("queue_depth", (Gauge<Integer>) queueDepth::getAsInt);
        group.gauge("context_cache_hits", (Gauge<Long>) contexts::hits);
        group.gauge("context_cache_misses", (Gauge<Long>) contexts::misses);
    }

    void batch(int size, double micros) {
        batches.inc();
        batchSize.update(size);
        batchLatencyMicros.update(Math.round(micros));
    }

    void served(long latencyMs) {
        inferences.inc();
        requestLatencyMs.update(latencyMs);
    }
}
