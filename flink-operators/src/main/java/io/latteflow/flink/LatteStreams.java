package io.latteflow.flink;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.util.OutputTag;

/**
 * The entry points: turn a stream of requests into a stream of results (plus dead letters), micro-batched
 * through one shared model per TaskManager, with the batch buffer in checkpointed state.
 *
 * <pre>{@code
 * StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
 * env.enableCheckpointing(1000);
 * LatteOptions options = LatteOptions.builder().model("models/latte-emoji").maxBatchSize(16).build();
 * DataStream<ImageRequest> prompts = env.fromData(ImageRequest.of("1", "red apple"), ImageRequest.of("2", "smiling face"));
 * LatteResults<ImageResult> images = LatteStreams.generate(prompts, options);
 * images.results().map(r -> r.id + " " + r.png.length).print();
 * images.deadLetters().print();
 * env.execute("captions to images");
 * }</pre>
 */
public final class LatteStreams {
    /** The side output of requests that were refused or failed, with the reason. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("latte-dead-letters", TypeInformation.of(DeadLetter.class));

    private LatteStreams() {
    }

    /**
     * Draws an image for each request; keyed by {@code key} (or the id when it has none). With
     * {@code latte.batching: CONTINUOUS} requests at different sampling steps share model calls per expert group.
     */
    public static LatteResults<ImageResult> generate(DataStream<ImageRequest> requests, LatteOptions options) {
        OneInputStreamOperator<ImageRequest, ImageResult> operator = options.batching() == LatteOptions.Batching.CONTINUOUS
                ? new ContinuousGenerateOperator(options, DEAD_LETTERS)
                : new BatchingOperator<>(new GenerateTask(), options, DEAD_LETTERS);
        return new LatteResults<>(requests
                .keyBy(new RequestKey<>(r -> r.key, r -> r.id))
                .transform("latte-generate", TypeInformation.of(ImageResult.class), operator)
                .uid("latte-generate"));
    }

    /** Answers each question; keyed by {@code session} (or the id), whose last image follow-ups may refer to. */
    public static LatteResults<AnswerResult> answer(DataStream<QuestionRequest> requests, LatteOptions options) {
        return new LatteResults<>(requests
                .keyBy(new RequestKey<>(r -> r.session, r -> r.id))
                .transform("latte-answer", TypeInformation.of(AnswerResult.class), new BatchingOperator<>(new AnswerTask(), options, DEAD_LETTERS))
                .uid("latte-answer"));
    }

    /** The request's key, else its id, else "" (a request without id is refused by the operator, not by keyBy). */
    private static final class RequestKey<T> implements KeySelector<T, String> {
        private static final long serialVersionUID = 1L;
        private final SerializableFunction<T> key, fallback;

        RequestKey(SerializableFunction<T> key, SerializableFunction<T> fallback) {
            this.key = key;
            this.fallback = fallback;
        }

        @Override
        public String getKey(T request) {
            if (request == null) return "";
            String k = key.apply(request);
            if (k == null) k = fallback.apply(request);
            return k == null ? "" : k;
        }
    }

    @FunctionalInterface
    private interface SerializableFunction<T> extends java.io.Serializable {
        String apply(T t);
    }
}
