package io.latteflow.flink;

import io.latteflow.model.LatteFlow;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import java.io.Serializable;
import java.util.List;

/**
 * What a {@link BatchingOperator} serves: how a request is checked when it arrives, and how a batch of admitted
 * requests runs through the model. One implementation per front door ({@link GenerateTask}, {@link AnswerTask}).
 *
 * @param <IN>  request type (a Flink POJO; admitted requests are what the checkpointed buffer holds)
 * @param <OUT> result type
 */
abstract class LatteTask<IN, OUT> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A request that cannot be served; the message becomes the dead letter's reason. */
    static final class Refused extends Exception {
        Refused(String reason) {
            super(reason);
        }
    }

    /** {@code generate} or {@code answer}: the dead letters' task and the metric group's name. */
    abstract String name();

    abstract TypeInformation<IN> requestType();

    abstract String id(IN request);

    /** Called once in the operator's {@code open}, with keyed state bound to the current record's key. */
    void open(KeyedStateStore state) {
    }

    /**
     * Checks a request against the options and the model (in the record's key context) and returns what to
     * buffer, e.g. a follow-up question completed with its session's image.
     */
    abstract IN admit(IN request, LatteOptions options, LatteFlow flow) throws Refused;

    /** Runs admitted requests in one model call; results in request order. */
    abstract List<OUT> run(LatteFlow flow, List<IN> batch, LatteOptions options);

    /** Fills in how the result was served. */
    abstract void served(OUT result, int batchSize, double latencyMs);
}
