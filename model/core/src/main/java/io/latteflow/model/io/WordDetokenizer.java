package io.latteflow.model.io;

import java.util.regex.Pattern;

/**
 * Puts punctuation back against its words in text decoded from a word-level vocabulary.
 *
 * <p>Our word-level tokenizers ({@link TokenizerBuilder}) split punctuation off as tokens of its own and have no
 * decoder, so Hugging Face's decode joins every token with one space: "man: red hair" came back as
 * "man : red hair", "medium-light" as "medium - light", and an exact-match answer that was right in every token
 * counted as wrong (7 of the 20 mistakes listed by {@code latte eval emoji} at understanding step 9,500 of the
 * 64x64 emoji model, issue 20). The tokens do not record where spaces were, so this follows English typography, as
 * the emoji names and captions do: no space before closing punctuation, none after an opening bracket or quote, and
 * hyphens, slashes and apostrophes between two words join them, as do the periods of an abbreviation. Of the 1,910
 * Google emoji names, 1,796 come back exactly through the shipped emoji model's vocabulary; the others have words
 * outside it ([UNK]) except "congo - kinshasa flag", whose spaced hyphen comes back joined.
 *
 * <pre>{@code
 * WordDetokenizer.attach("kiss : woman , woman");        // "kiss: woman, woman"
 * WordDetokenizer.attach("medium - light and light");    // "medium-light and light"
 * }</pre>
 */
public final class WordDetokenizer {
    private static final Pattern BEFORE_CLOSING = Pattern.compile(" +([,.:;!?%)\\]}\u201D\u2019])");
    private static final Pattern AFTER_OPENING = Pattern.compile("([(\\[{\u201C]) +");
    private static final Pattern JOINING = Pattern.compile("(?<=[\\p{L}\\p{N}]) *([-/'\u2019]) *(?=[\\p{L}\\p{N}])");
    /** The inner periods of an abbreviation such as "u.s.". */
    private static final Pattern ABBREVIATION = Pattern.compile("(?<=\\b\\p{L})\\. (?=\\p{L}\\.)");

    private WordDetokenizer() {
    }

    /** {@code spaced}, tokens joined by single spaces, with its punctuation attached. */
    public static String attach(String spaced) {
        String s = JOINING.matcher(spaced).replaceAll("$1");
        s = BEFORE_CLOSING.matcher(s).replaceAll("$1");
        s = ABBREVIATION.matcher(s).replaceAll(".");
        return AFTER_OPENING.matcher(s).replaceAll("$1");
    }
}
