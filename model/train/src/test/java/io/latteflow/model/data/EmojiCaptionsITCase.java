package io.latteflow.model.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Captions built from the real fetched metadata; a missing data folder fails with the DataException message. */
class EmojiCaptionsITCase {
    static EmojiSet google, twitter;

    @BeforeAll
    static void load() {
        google = EmojiSet.load(DataRoot.resolve().dir(), "google");
        twitter = EmojiSet.load(DataRoot.resolve().dir(), "twitter");
    }

    @Test
    void captionsComeFromNameAndKeywords() {
        Emoji grin = google.byUnified("1F600").orElseThrow();
        List<String> all = new EmojiCaptions(0).all(grin);
        assertEquals("grinning face", all.get(0));
        assertTrue(all.contains("grinning face, smile, happy"), all.toString());
        assertTrue(all.contains("grinning face emoji"), all.toString());
        assertTrue(all.contains("grinning face, face smiling"), all.toString());
        assertTrue(all.contains(new EmojiCaptions(7).caption(grin)));
        assertTrue(EmojiCaptions.extraKeywords(grin).stream().noneMatch(k -> k.equals("face")), "'face' is in the name already");
    }

    @Test
    void skinTonesAndStylesAreInTheCaption() {
        Emoji santa = google.byUnified("1F385-1F3FF").orElseThrow();
        assertTrue(new EmojiCaptions(3).caption(santa).contains("father christmas: dark skin tone"));
        Emoji tw = twitter.byUnified("1F385-1F3FF").orElseThrow();
        String styled = new EmojiCaptions(3, true).caption(tw);
        assertTrue(styled.endsWith(", twitter style"), styled);
        assertEquals(new EmojiCaptions(3).caption(santa) + ", twitter style", styled, "both styles get the same template");
    }

    @Test
    void templatesAreFixedBySeedAndVaried() {
        EmojiCaptions a = new EmojiCaptions(42), b = new EmojiCaptions(42), c = new EmojiCaptions(43);
        Set<String> shapes = new HashSet<>();
        int differ = 0;
        for (Emoji e : google.all().subList(0, 400)) {
            assertEquals(a.caption(e), b.caption(e));
            if (!a.caption(e).equals(c.caption(e))) differ++;
            String cap = a.caption(e);
            shapes.add(cap.endsWith(" emoji") ? "emoji" : cap.endsWith(", " + e.subcategoryWords()) ? "sub" : cap.contains(", ") ? "kw" : "name");
        }
        assertEquals(Set.of("emoji", "sub", "kw", "name"), shapes);
        assertTrue(differ > 100, "another seed picks other templates: " + differ);
    }

    @Test
    void everyCaptionOfEveryEmojiIsShortLowercaseAndNamesIt() {
        // Both styles share the metadata; the styled captions of one are the longest there are.
        EmojiCaptions captions = new EmojiCaptions(1, true);
        for (Emoji e : google) {
            for (String cap : captions.all(e)) {
                assertTrue(EmojiCaptions.tokens(cap) <= EmojiCaptions.MAX_TOKENS, cap);
                assertEquals(cap.toLowerCase(Locale.ROOT), cap);
                assertTrue(cap.contains(e.name().split(" ")[0]), cap + " for " + e.name());
            }
        }
    }

    @Test
    void pairsCarryImageAndCategoryLabel() {
        List<Emoji> some = List.of(google.byUnified("1F600").orElseThrow(), google.byUnified("1F1EF-1F1F5").orElseThrow());
        List<CaptionedImage> pairs = new EmojiCaptions(0).pairs(some, 16);
        assertEquals(2, pairs.size());
        assertEquals(16, pairs.get(0).image().getWidth());
        assertEquals(0, pairs.get(0).label());
        assertEquals(EmojiSet.CATEGORIES.indexOf("Flags"), pairs.get(1).label());
        assertTrue(pairs.get(1).caption().contains("japan flag"), pairs.get(1).caption());
    }

    @Test
    void tokensCountLikeTheWordLevelTokenizer() {
        assertEquals(4, EmojiCaptions.tokens("grinning face, smile"));
        assertEquals(7, EmojiCaptions.tokens("father christmas: medium-light skin"));
        assertEquals(0, EmojiCaptions.tokens("  "));
    }
}
