package io.latteflow.flink;

/**
 * The model's answer to a {@link QuestionRequest}.
 *
 * <pre>{@code
 * answers.map(a -> a.id + ": " + a.answer);
 * }</pre>
 */
public class AnswerResult {
    public String id;
    public String session;
    public String question;
    public String answer;
    /** Requests in the model call that answered it. */
    public int batchSize;
    /** From the request's arrival at the operator to its answer, in ms of processing time. */
    public double latencyMs;

    public AnswerResult() {
    }

    @Override
    public String toString() {
        return "AnswerResult{id=" + id + ", session=" + session + ", question=" + Text.quote(question) + ", answer=" + Text.quote(answer) + "}";
    }
}
