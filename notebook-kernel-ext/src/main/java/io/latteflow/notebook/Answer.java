package io.latteflow.notebook;

import java.awt.image.BufferedImage;

/**
 * A VQA round trip: the image the model looked at, the question and its answer.
 *
 * <pre>{@code
 * Answer a = session.ask(img.image(), "what is this?");
 * String text = a.answer();
 * }</pre>
 */
public record Answer(BufferedImage image, String question, String answer) {
    public String toHtml() {
        String shown = answer.isEmpty() ? "<i>(the model answered with no words)</i>" : "<b>" + Html.escape(answer) + "</b>";
        return "<div class=\"latte-answer\" style=\"display:flex;gap:12px;align-items:center\">" + Html.img(image, Html.displaySide(image))
                + "<div><div>Q: " + Html.escape(question) + "</div><div>A: " + shown + "</div></div></div>";
    }

    @Override
    public String toString() {
        return "Q: " + question + "\nA: " + answer;
    }
}
