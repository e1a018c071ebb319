package io.latteflow.model.data;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One emoji image of one style (a base emoji or one of its skin-tone variants) with its metadata from
 * emoji-datasource's {@code emoji.json} and emojilib's keywords.
 *
 * <pre>{@code
 * Emoji grin = EmojiSet.load(root, "google").byUnified("1F600").orElseThrow();   // grin.name() = "grinning face"
 * BufferedImage img = grin.image(32);                                              // 32x32 RGB over white
 * }</pre>
 *
 * @param unified     code points in upper-case hex joined by '-', e.g. "1F385-1F3FD"
 * @param base        the unified code of the base emoji (itself for a base emoji); skin-tone variants share it
 * @param character   the emoji as a string
 * @param name        lower-case name, e.g. "grinning face", "japan flag" (the same for all skin tones)
 * @param shortNames  emoji-datasource's short names, e.g. ["grinning"]
 * @param category    e.g. "Smileys & Emotion" (as in emoji.json)
 * @param subcategory e.g. "face-smiling" (as in emoji.json)
 * @param skinTone    null for a base emoji; "light", "medium-light", "medium", "medium-dark" or "dark", or two tones
 *                    joined by " and " for two-person emoji with different tones
 * @param keywords    emojilib's keywords, lower case, underscores as spaces, emoticons such as ":D" dropped
 * @param style       "google" or "twitter"
 * @param imageFile   the 64x64 RGBA PNG
 */
public record Emoji(String unified, String base, String character, String name, List<String> shortNames,
                    String category, String subcategory, String skinTone, List<String> keywords, String style,
                    Path imageFile) {

    public Emoji {
        shortNames = List.copyOf(shortNames);
        keywords = List.copyOf(keywords);
    }

    /** The position of its category in {@link EmojiSet#CATEGORIES} (the emoji judge's class). */
    public int categoryIndex() {
        return EmojiSet.categoryIndex(category);
    }

    /** The image composited over white and area-averaged to {@code size x size}; decoded from the PNG on every call. */
    public BufferedImage image(int size) {
        return Canvas.flatten(Canvas.read(imageFile), size);
    }

    /** True for a skin-tone variant of a base emoji. */
    public boolean isSkinVariant() {
        return skinTone != null;
    }

    /** The name with its skin tone in CLDR's form, e.g. "father christmas: medium skin tone". */
    public String fullName() {
        return skinTone == null ? name : name + ": " + skinTone + " skin tone";
    }

    /** True for the Flags category (country, subdivision and other flags). */
    public boolean isFlag() {
        return "Flags".equals(category);
    }

    /** The country or region of a country or subdivision flag ("japan", "england"), else null. */
    public String country() {
        boolean place = subcategory.equals("country-flag") || subcategory.equals("subdivision-flag");
        if (!isFlag() || !place) return null;
        // emoji.json names them "Japan Flag"; older data sets wrote "flag: japan" (CLDR), accept both.
        if (name.endsWith(" flag")) return name.substring(0, name.length() - " flag".length());
        if (name.startsWith("flag: ")) return name.substring("flag: ".length());
        return name;
    }

    /** The subcategory as words, e.g. "face smiling" (the tokenizer would split the hyphens off anyway). */
    public String subcategoryWords() {
        return subcategory.replace('-', ' ');
    }

    /** The category in lower case, e.g. "smileys & emotion". */
    public String categoryWords() {
        return category.toLowerCase(Locale.ROOT);
    }
}
