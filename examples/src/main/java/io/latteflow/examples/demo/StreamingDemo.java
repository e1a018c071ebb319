package io.latteflow.examples.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.flink.AnswerResult;
import io.latteflow.flink.DeadLetter;
import io.latteflow.flink.ImageRequest;
import io.latteflow.flink.ImageResult;
import io.latteflow.flink.LatteOptions;
import io.latteflow.flink.LatteResults;
import io.latteflow.flink.LatteStreams;
import io.latteflow.flink.QuestionRequest;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The streaming demo job: captions are drawn by the LaTtE-Flow operator, every drawn image is then asked questions
 * by the same model (a VQA round trip inside the stream), and images, answers and dead letters are written by
 * exactly-once FileSinks as JSON lines under {@code out/stream/}. {@link ContactSheet} turns them into PNGs and
 * an HTML page.
 *
 * <pre>{@code
 * StreamingDemo demo = new StreamingDemo(List.of("red apple, google style"), List.of("what is this?"), options, Path.of("out"));
 * demo.build(StreamExecutionEnvironment.getExecutionEnvironment(), progress);
 * env.execute("latte demo");
 * }</pre>
 */
public final class StreamingDemo implements Serializable {
    private static final long serialVersionUID = 1L;
    /**
     * Names of emoji ({@link #builtIn} alternates Google and Twitter style): 20 of the shipped model's training split
     * and 4 it never saw (slice of pizza, birthday cake, soccer ball and cat face are held out).
     */
    public static final List<String> BUILT_IN = List.of("red apple", "grinning face", "dog face", "slice of pizza", "rocket",
            "snowman", "ghost", "birthday cake", "banana", "automobile", "jack-o-lantern", "four leaf clover", "fire",
            "crescent moon", "soccer ball", "guitar", "panda face", "rainbow", "tiger face", "cat face", "heavy black heart",
            "thumbs up sign", "house building", "smiling face with heart-shaped eyes");
    public static final List<String> DEFAULT_QUESTIONS = List.of("what is this?", "which category is this?");

    private final List<String> prompts;
    private final List<String> questions;
    private final LatteOptions options;
    private final String out;
    private final long rateMillis;

    /**
     * @param rateMillis pause between two prompts entering the stream (0 = all at once)
     */
    public StreamingDemo(List<String> prompts, List<String> questions, LatteOptions options, Path out, long rateMillis) {
        if (prompts.isEmpty()) throw new IllegalArgumentException("the demo needs at least one prompt");
        this.prompts = List.copyOf(prompts);
        this.questions = List.copyOf(questions);
        this.options = options;
        this.out = out.toAbsolutePath().toString();
        this.rateMillis = rateMillis;
    }

    /** The built-in captions, cycled to {@code count} prompts with alternating styles. */
    public static List<String> builtIn(int count) {
        List<String> p = new ArrayList<>(count);
        for (int i = 0; i < count; i++) p.add(BUILT_IN.get(i % BUILT_IN.size()) + ", " + (i % 2 == 0 ? "google" : "twitter") + " style");
        return p;
    }

    /** The id of prompt {@code i}'s image, which also names its PNG: img-0000, img-0001, ... */
    public static String imageId(int i) {
        return String.format("img-%04d", i);
    }

    /** Counts what leaves the job, for the progress line; runs in the job's JVM (the embedded MiniCluster). */
    public interface Progress extends Serializable {
        void image(ImageResult r);

        void answer(AnswerResult a);

        void deadLetter(DeadLetter d);
    }

    /** Adds the demo's sources, operators and sinks to {@code env}. */
    public void build(StreamExecutionEnvironment env, Progress progress) {
        List<ImageRequest> requests = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) requests.add(ImageRequest.of(imageId(i), prompts.get(i)));
        long pause = rateMillis;
        DataStream<ImageRequest> stream = env.fromData(requests).map(r -> {
            if (pause > 0) Thread.sleep(pause);
            return r;
        }).name("prompts");

        LatteResults<ImageResult> images = LatteStreams.generate(stream, options);
        List<String> qs = questions;
        DataStream<QuestionRequest> asked = images.results().flatMap((FlatMapFunction<ImageResult, QuestionRequest>) (r, c) -> {
            for (int q = 0; q < qs.size(); q++) c.collect(QuestionRequest.of(r.id + "-q" + q, r.id, q == 0 ? r.png : null, qs.get(q)));
        }).returns(QuestionRequest.class).name("questions about each image");
        LatteResults<AnswerResult> answers = LatteStreams.answer(asked, options);

        images.results().map(r -> {
            progress.image(r);
            return json(Map.of("id", r.id, "prompt", r.prompt, "png", Base64.getEncoder().encodeToString(r.png),
                    "steps", r.steps, "guidance", r.guidance, "seed", r.seed, "batch", r.batchSize, "latency_ms", r.latencyMs));
        }).name("image json").sinkTo(sink("images")).name("images sink");
        answers.results().map(a -> {
            progress.answer(a);
            return json(Map.of("id", a.id, "image", a.session, "question", a.question, "answer", a.answer, "batch", a.batchSize,
                    "latency_ms", a.latencyMs));
        }).name("answer json").sinkTo(sink("answers")).name("answers sink");
        images.deadLetters().union(answers.deadLetters()).map(d -> {
            progress.deadLetter(d);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", d.id);
            m.put("task", d.task);
            m.put("reason", d.reason);
            return json(m);
        }).name("dead letter json").sinkTo(sink("dead-letters")).name("dead letters sink");
    }

    private FileSink<String> sink(String what) {
        return FileSink.forRowFormat(new org.apache.flink.core.fs.Path(Path.of(out, "stream", what).toUri()), new SimpleStringEncoder<String>())
                .withRollingPolicy(OnCheckpointRollingPolicy.build()).build();
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String json(Map<String, ?> fields) throws Exception {
        return JSON.writeValueAsString(fields);
    }

    /** Runs the job to its end on {@code env}. */
    public JobExecutionResult run(StreamExecutionEnvironment env, Progress progress) throws Exception {
        build(env, progress);
        return env.execute("latte demo");
    }

}
