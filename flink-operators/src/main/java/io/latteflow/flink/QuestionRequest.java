package io.latteflow.flink;

import java.util.Objects;

/**
 * A question about an image, as a Flink POJO. A follow-up question in the same {@code session} may leave the image
 * out: the operator keeps each session's last image in keyed state.
 *
 * <pre>{@code
 * QuestionRequest first = QuestionRequest.of("q1", "user-7", pngBytes, "what is this?");
 * QuestionRequest next = QuestionRequest.of("q2", "user-7", null, "which category is it?");
 * }</pre>
 */
public class QuestionRequest {
    public String id;
    /** Session key; null means the id (no follow-ups). */
    public String session;
    /** PNG, JPEG, BMP or GIF bytes; null to ask about the session's last image. */
    public byte[] image;
    public String question;

    public QuestionRequest() {
    }

    public static QuestionRequest of(String id, String session, byte[] image, String question) {
        QuestionRequest r = new QuestionRequest();
        r.id = id;
        r.session = session;
        r.image = image;
        r.question = question;
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuestionRequest r && Objects.equals(id, r.id) && Objects.equals(session, r.session)
                && java.util.Arrays.equals(image, r.image) && Objects.equals(question, r.question);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, session, question) * 31 + java.util.Arrays.hashCode(image);
    }

    @Override
    public String toString() {
        return "QuestionRequest{id=" + id + ", session=" + session + ", image=" + (image == null ? "none" : image.length + " bytes")
                + ", question=" + Text.quote(question) + "}";
    }
}
