package io.latteflow.flink;

import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The output of a LaTtE-Flow operator: the results, and the dead letters of requests it could not serve.
 *
 * <pre>{@code
 * LatteResults<AnswerResult> out = LatteStreams.answer(questions, options);
 * out.results().print();
 * out.deadLetters().print();
 * }</pre>
 */
public final class LatteResults<T> {
    private final SingleOutputStreamOperator<T> results;

    LatteResults(SingleOutputStreamOperator<T> results) {
        this.results = results;
    }

    public SingleOutputStreamOperator<T> results() {
        return results;
    }

    public DataStream<DeadLetter> deadLetters() {
        return results.getSideOutput(LatteStreams.DEAD_LETTERS);
    }
}
