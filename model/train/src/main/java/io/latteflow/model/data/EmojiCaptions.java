package io.latteflow.model.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Short captions for emoji built from the real metadata: the name (with its skin tone), emojilib keywords that add
 * something to the name, and the subcategory, in a few templates; which template an emoji gets is fixed by a seed.
 *
 * <pre>{@code
 * String c = new EmojiCaptions(0).caption(grin);   // e.g. "grinning face, smile, happy"
 * }</pre>
 *
 * <p>Captions never exceed {@link #MAX_TOKENS} tokens as the word-level tokenizer counts them (words, with every
 * punctuation character a token of its own), so they fit the small models' context next to the special tokens.
 * The template depends on the seed and the emoji's code only, so both styles of an emoji get the same caption.
 */
public final class EmojiCaptions {
    /** Most tokens in a caption. */
    public static final int MAX_TOKENS = 24;
    private static final int TEMPLATES = 5;
    private static final Pattern WORD_BREAK = Pattern.compile("[\\s\\p{Punct}]+");

    private final long seed;
    private final boolean withStyle;

    /** Captions without the style. */
    public EmojiCaptions(long seed) {
        this(seed, false);
    }

    /** {@code withStyle} appends ", google style" / ", twitter style", so a model trained on both can tell them apart. */
    public EmojiCaptions(long seed, boolean withStyle) {
        this.seed = seed;
        this.withStyle = withStyle;
    }

    /** The caption of {@code e} for this seed. */
    public String caption(Emoji e) {
        int t = (int) Long.remainderUnsigned(EmojiSet.fnv1a("latte-caption/" + seed + "/" + e.unified()), TEMPLATES);
        return fit(template(e, t), e);
    }

    /** Every distinct caption the templates give {@code e}, the plain name first (for augmentation or evaluation). */
    public List<String> all(Emoji e) {
        Set<String> out = new LinkedHashSet<>();
        for (int t = 0; t < TEMPLATES; t++) out.add(fit(template(e, t), e));
        return List.copyOf(out);
    }

    /** Caption-image pairs at {@code size x size}; the label is the category index ({@link EmojiSet#CATEGORIES}). */
    public List<CaptionedImage> pairs(List<Emoji> emoji, int size) {
        List<CaptionedImage> out = new ArrayList<>(emoji.size());
        for (Emoji e : emoji) out.add(new CaptionedImage(caption(e), e.image(size), EmojiSet.categoryIndex(e.category())));
        return out;
    }

    /**
     * The keywords that say something the name does not: "face" adds nothing to "grinning face", "smile" does.
     * Keeps emojilib's order, which puts the most telling words first.
     */
    public static List<String> extraKeywords(Emoji e) {
        Set<String> nameWords = new HashSet<>(Arrays.asList(WORD_BREAK.split(e.fullName())));
        List<String> out = new ArrayList<>();
        for (String k : e.keywords()) {
            if (!nameWords.containsAll(Arrays.asList(WORD_BREAK.split(k)))) out.add(k);
        }
        return out;
    }

    private String template(Emoji e, int t) {
        String name = e.fullName();
        List<String> k = extraKeywords(e);
        String caption = switch (t) {
            case 1 -> k.size() >= 2 ? name + ", " + k.get(0) + ", " + k.get(1) : k.isEmpty() ? name : name + ", " + k.get(0);
            case 2 -> k.isEmpty() ? name + " emoji" : name + ", " + k.get(0);
            case 3 -> name + " emoji";   // no article: "a" before "eject button" or "pot of food" reads wrong
            case 4 -> name + ", " + e.subcategoryWords();
            default -> name;
        };
        return withStyle ? caption + ", " + e.style() + " style" : caption;
    }

    /** The caption itself if it fits; else the bare name (with the style), cut to the limit word by word. */
    private String fit(String caption, Emoji e) {
        if (tokens(caption) <= MAX_TOKENS) return caption;
        String suffix = withStyle ? ", " + e.style() + " style" : "";
        List<String> words = new ArrayList<>(Arrays.asList(e.fullName().split(" ")));
        while (words.size() > 1 && tokens(String.join(" ", words) + suffix) > MAX_TOKENS) words.remove(words.size() - 1);
        return String.join(" ", words) + suffix;
    }

    /** Tokens as the word-level tokenizer splits them: whitespace separates words, each punctuation mark is one. */
    public static int tokens(String text) {
        int n = 0;
        boolean inWord = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isWhitespace(cp)) {
                inWord = false;
            } else if (isPunctuation(cp)) {
                n++;
                inWord = false;
            } else if (!inWord) {
                n++;
                inWord = true;
            }
        }
        return n;
    }

    /** ASCII punctuation or a Unicode P* category, the test the tokenizer's Punctuation pre-tokenizer applies. */
    static boolean isPunctuation(int cp) {
        if (cp < 128) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
        int type = Character.getType(cp);
        return type == Character.CONNECTOR_PUNCTUATION || type == Character.DASH_PUNCTUATION
                || type == Character.START_PUNCTUATION || type == Character.END_PUNCTUATION
                || type == Character.INITIAL_QUOTE_PUNCTUATION || type == Character.FINAL_QUOTE_PUNCTUATION
                || type == Character.OTHER_PUNCTUATION;
    }
}
