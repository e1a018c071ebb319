package io.latteflow.flink;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BatchingOperator} alone, in Flink's keyed operator test harness: no cluster, and processing time moves
 * only when the test sets it, so "waits for the timer" and "runs at once" are exact.
 */
class BatchingOperatorTest {
    private static final Duration DELAY = Duration.ofMillis(50);

    /** Keeps the tiny model loaded across the harnesses of this class (each one's operator leases it in open). */
    private static SharedModels.Lease model;

    @BeforeAll
    static void loadTheModelOnce() throws IOException {
        model = SharedModels.acquire(TinyModel.dir(), 1);
    }

    @AfterAll
    static void releaseTheModel() {
        if (model != null) model.close();
    }

    private static LatteOptions options(int maxBatchSize, Duration maxBatchDelay) {
        return TinyModel.options().maxBatchSize(maxBatchSize).maxBatchDelay(maxBatchDelay).build();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, ImageRequest, ImageResult> generate(LatteOptions options) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new BatchingOperator<>(new GenerateTask(), options, LatteStreams.DEAD_LETTERS),
                r -> r.id, Types.STRING);
    }

    /** One sampling step: the model runs every path, fast. */
    private static ImageRequest request(String id, String prompt) {
        return ImageRequest.of(id, prompt).withSteps(1);
    }

    private static List<String> ids(List<ImageResult> results) {
        List<String> ids = new ArrayList<>();
        for (ImageResult r : results) ids.add(r.id);
        return ids;
    }

    /**
     * Timers the operator set on the processing-time service (its flush timers). The harness's
     * {@code numProcessingTimeTimers()} counts only keyed timers of the timer service, which this operator does not use.
     */
    private static int flushTimers(KeyedOneInputStreamOperatorTestHarness<String, ?, ?> h) {
        return h.getProcessingTimeService().getNumActiveTimers();
    }

    private static List<DeadLetter> deadLetters(KeyedOneInputStreamOperatorTestHarness<String, ?, ?> h) {
        Queue<StreamRecord<DeadLetter>> side = h.getSideOutput(LatteStreams.DEAD_LETTERS);   // null until the first one
        List<DeadLetter> out = new ArrayList<>();
        if (side != null) for (StreamRecord<DeadLetter> r : side) out.add(r.getValue());
        return out;
    }

    @Test
    void fewerRequestsThanTheBatchSizeWaitForTheDelayTimerWhichRunsThemAsOneBatch() throws Exception {
        try (var h = generate(options(4, DELAY))) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(request("a", "red apple"), 0);
            h.processElement(request("b", "cat"), 0);
            h.processElement(request("c", "smiling face"), 0);
            assertTrue(h.extractOutputValues().isEmpty(), "3 of 4 wait in the buffer");
            assertEquals(1, flushTimers(h), "one flush timer for the buffer, set by its first request");

            h.setProcessingTime(DELAY.toMillis() - 1);
            assertTrue(h.extractOutputValues().isEmpty(), "still waiting 1 ms before max-batch-delay");

            h.setProcessingTime(DELAY.toMillis());
            List<ImageResult> out = h.extractOutputValues();
            assertEquals(List.of("a", "b", "c"), ids(out), "the timer ran the buffer, results in arrival order");
            for (ImageResult r : out) {
                assertEquals(3, r.batchSize, "one model call for the three: " + r);
                assertEquals(DELAY.toMillis(), r.latencyMs, 0.0, "waited exactly max-batch-delay: " + r);
                assertNotNull(r.png);
            }
            assertEquals(0, flushTimers(h), "no timer left with an empty buffer");
            assertTrue(deadLetters(h).isEmpty());
        }
    }

    @Test
    void reachingTheMaxBatchSizeRunsTheBatchAtOnceWithoutTheTimer() throws Exception {
        try (var h = generate(options(3, Duration.ofMinutes(10)))) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(request("a", "red apple"), 0);
            h.processElement(request("b", "cat"), 0);
            assertTrue(h.extractOutputValues().isEmpty());

            h.processElement(request("c", "smiling face"), 0);               // processing time does not move
            List<ImageResult> out = h.extractOutputValues();
            assertEquals(List.of("a", "b", "c"), ids(out), "the third request filled the batch, which ran at once");
            for (ImageResult r : out) assertEquals(3, r.batchSize, r.toString());
            assertEquals(0, flushTimers(h), "the full batch cancelled the pending flush timer");

            h.processElement(request("d", "green tree"), 0);
            assertEquals(3, h.extractOutputValues().size(), "d waits in a new buffer");
            assertEquals(1, flushTimers(h), "and has its own flush timer");
        }
    }

    @Test
    void requestsBufferedAtASnapshotAreAnsweredExactlyOnceByAnOperatorRestoredFromIt() throws Exception {
        LatteOptions options = options(4, DELAY);
        List<ImageRequest> pending = List.of(request("s1", "red apple"), request("s2", "cat").withSeed(7L), request("s3", "smiling face"));
        OperatorSubtaskState snapshot;
        var failed = generate(options);
        try {
            failed.open();
            failed.setProcessingTime(0);
            for (ImageRequest r : pending) failed.processElement(r, 0);
            assertTrue(failed.extractOutputValues().isEmpty(), "all three are still buffered");
            snapshot = failed.snapshot(1L, 0L);
            // The old operator is abandoned here, as in a failover: its buffer never runs (close() would flush it).

            try (var restored = generate(options)) {
                restored.initializeState(snapshot);
                restored.open();
                assertTrue(restored.extractOutputValues().isEmpty(), "nothing runs before the restored buffer's timer fires");
                assertEquals(1, flushTimers(restored), "open() set a flush timer for the restored requests");

                restored.setProcessingTime(1);
                List<ImageResult> out = restored.extractOutputValues();
                assertEquals(List.of("s1", "s2", "s3"), ids(out), "each buffered request answered once, none lost, in arrival order");
                for (int i = 0; i < pending.size(); i++) {
                    assertEquals(3, out.get(i).batchSize);
                    assertArrayEquals(TinyModel.direct(pending.get(i)), out.get(i).png,
                            "the restored request is the one that was sent (prompt, steps, seed): " + pending.get(i));
                }

                restored.setProcessingTime(10 * DELAY.toMillis());
                assertEquals(3, restored.extractOutputValues().size(), "nothing runs twice");
                assertTrue(deadLetters(restored).isEmpty());
            }
        } finally {
            failed.close();
        }
    }

    @Test
    void aPromptTheModelRefusesGoesToTheDeadLetterOutputAndNotToTheResults() throws Exception {
        try (var h = generate(options(4, DELAY))) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(request("ok1", "red apple"), 0);
            h.processElement(request("empty", "   "), 0);
            h.processElement(request("ok2", "cat"), 0);

            List<DeadLetter> dead = deadLetters(h);
            assertEquals(1, dead.size(), "refused on arrival, before any model call: " + dead);
            assertEquals("empty", dead.get(0).id);
            assertEquals("generate", dead.get(0).task);
            assertEquals("prompt is empty", dead.get(0).reason);

            h.setProcessingTime(DELAY.toMillis());
            List<ImageResult> out = h.extractOutputValues();
            assertEquals(List.of("ok1", "ok2"), ids(out), "the refused request has no result");
            for (ImageResult r : out) assertEquals(2, r.batchSize, "the refused request took no place in the batch: " + r);
            assertEquals(1, deadLetters(h).size());
        }
    }

    @Test
    void aQuestionWithAnUndecodableImageGoesToTheDeadLetterOutputAndNotToTheResults() throws Exception {
        var operator = new BatchingOperator<>(new AnswerTask(), options(4, DELAY), LatteStreams.DEAD_LETTERS);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<String, QuestionRequest, AnswerResult>(operator, r -> r.id, Types.STRING)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(QuestionRequest.of("q1", null, "not an image".getBytes(StandardCharsets.UTF_8), "what is this?"), 0);

            List<DeadLetter> dead = deadLetters(h);
            assertEquals(1, dead.size(), dead.toString());
            assertEquals("q1", dead.get(0).id);
            assertEquals("answer", dead.get(0).task);
            assertEquals("image bytes are not PNG, JPEG, BMP or GIF", dead.get(0).reason);
            assertEquals(0, flushTimers(h), "nothing was buffered");

            h.setProcessingTime(10 * DELAY.toMillis());
            assertTrue(h.extractOutputValues().isEmpty(), "no answer for it");
            assertEquals(1, deadLetters(h).size());
        }
    }

    /** Issue 19: an empty first question of a session dead-lettered every follow-up ("session has no earlier image"). */
    @Test
    void aRefusedQuestionDeadLettersOnlyItselfAndItsSessionKeepsTheImageItBrought() throws Exception {
        var operator = new BatchingOperator<>(new AnswerTask(), options(4, DELAY), LatteStreams.DEAD_LETTERS);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<String, QuestionRequest, AnswerResult>(operator, r -> r.session, Types.STRING)) {
            h.open();
            h.setProcessingTime(0);
            byte[] png = TinyModel.direct(request("img", "red apple"));
            h.processElement(QuestionRequest.of("img-q0", "img", png, ""), 0);
            h.processElement(QuestionRequest.of("img-q1", "img", null, "what is this?"), 0);
            h.processElement(QuestionRequest.of("img-q2", "img", null, "which category is this?"), 0);

            List<DeadLetter> dead = deadLetters(h);
            assertEquals(1, dead.size(), dead.toString());
            assertEquals("img-q0", dead.get(0).id);
            assertEquals("question is empty", dead.get(0).reason);

            h.setProcessingTime(DELAY.toMillis());
            List<String> answered = new ArrayList<>();
            for (AnswerResult a : h.extractOutputValues()) answered.add(a.id);
            assertEquals(List.of("img-q1", "img-q2"), answered, "the follow-ups read the image the refused question brought");
        }
    }

    /**
     * Issue 19 (found building the soak): a question without a session is keyed by its id, and its image was kept in
     * keyed state under that id for good, so the state and every checkpoint grew by an image per answered question.
     */
    @Test
    void aQuestionWithoutASessionLeavesNoStateBehindAndASessionKeepsOneImage() throws Exception {
        var operator = new BatchingOperator<>(new AnswerTask(), options(4, DELAY), LatteStreams.DEAD_LETTERS);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<String, QuestionRequest, AnswerResult>(operator,
                r -> r.session != null ? r.session : r.id, Types.STRING)) {
            h.open();
            h.setProcessingTime(0);
            byte[] png = TinyModel.direct(request("img", "red apple"));
            for (int i = 0; i < 3; i++) h.processElement(QuestionRequest.of("one-off-" + i, null, png, "what is this?"), 0);
            h.processElement(QuestionRequest.of("s-q0", "s", png, "what is this?"), 0);
            h.processElement(QuestionRequest.of("s-q1", "s", null, "which category is this?"), 0);
            h.setProcessingTime(DELAY.toMillis());
            h.setProcessingTime(2 * DELAY.toMillis());

            assertEquals(5, h.extractOutputValues().size(), "every question answered: " + deadLetters(h));
            assertEquals(1, h.numKeyedStateEntries(), "only session s keeps an image; the one-off questions keep nothing");
        }
    }
}
