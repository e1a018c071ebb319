package io.latteflow.model.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Against the real files {@code data/fetch.sh} downloads: a missing data folder fails here with the
 * {@link DataException} message (run {@code ./latte data fetch}); it is never skipped.
 */
class EmojiSetITCase {
    /** emoji-datasource 16.0.0: 1911 base emoji plus 1875 skin-tone variants, every one drawn in both styles. */
    static final int IMAGES = 3786, BASE = 1911;

    static EmojiSet google, twitter;

    @BeforeAll
    static void load() {
        Path root = DataRoot.resolve().dir();
        google = EmojiSet.load(root, "google");
        twitter = EmojiSet.load(root, "twitter");
    }

    @Test
    void bothStylesHoldEveryImage() {
        assertEquals(IMAGES, google.size());
        assertEquals(IMAGES, twitter.size());
        assertEquals(codes(google.all()), codes(twitter.all()));
        assertEquals(BASE, google.stream().filter(e -> !e.isSkinVariant()).count());
        assertTrue(google.stream().allMatch(e -> Files.isRegularFile(e.imageFile())));
        assertTrue(twitter.stream().allMatch(e -> e.style().equals("twitter") && e.imageFile().toString().contains("/twitter/64/")));
    }

    @Test
    void knownEmojiCarriesItsMetadata() {
        Emoji grin = google.byUnified("1F600").orElseThrow();
        assertEquals("grinning face", grin.name());
        assertEquals("\uD83D\uDE00", grin.character());
        assertEquals("Smileys & Emotion", grin.category());
        assertEquals("face-smiling", grin.subcategory());
        assertEquals(List.of("grinning"), grin.shortNames());
        assertNull(grin.skinTone());
        assertEquals("1F600", grin.base());
        assertTrue(grin.keywords().containsAll(List.of("smile", "happy")), grin.keywords().toString());
        assertFalse(grin.keywords().contains(":d"), "emoticons are dropped");
        assertFalse(grin.keywords().contains("grinning face"), "the name itself is not a keyword");
        assertEquals("1f600.png", grin.imageFile().getFileName().toString());
        assertEquals(0, EmojiSet.categoryIndex(grin.category()));
    }

    @Test
    void skinToneVariantsShareTheirBase() {
        Emoji santa = google.byUnified("1f385-1f3fd").orElseThrow();
        assertEquals("1F385", santa.base());
        assertEquals("father christmas", santa.name());
        assertEquals("medium", santa.skinTone());
        assertEquals("father christmas: medium skin tone", santa.fullName());
        assertEquals(google.byUnified("1F385").orElseThrow().keywords(), santa.keywords());
        Map<String, Long> tones = google.stream().filter(Emoji::isSkinVariant)
                .collect(Collectors.groupingBy(Emoji::skinTone, Collectors.counting()));
        for (String tone : List.of("light", "medium-light", "medium", "medium-dark", "dark")) {
            assertTrue(tones.getOrDefault(tone, 0L) > 300, tone + ": " + tones);
        }
        Emoji couple = google.byUnified("1F468-1F3FB-200D-2764-FE0F-200D-1F468-1F3FC").orElseThrow();
        assertEquals("light and medium-light", couple.skinTone());
    }

    @Test
    void flagsNameTheirCountry() {
        Emoji japan = google.byUnified("1F1EF-1F1F5").orElseThrow();
        assertTrue(japan.isFlag());
        assertEquals("japan", japan.country());
        assertEquals("england", google.byUnified("1F3F4-E0067-E0062-E0065-E006E-E0067-E007F").orElseThrow().country());
        assertNull(google.byUnified("1F3C1").orElseThrow().country(), "the chequered flag is no country's");
        assertEquals(259, google.stream().filter(e -> e.country() != null && e.subcategory().equals("country-flag")).count());
    }

    @Test
    void heldOutSplitIsDisjointStableAndKeepsSkinTonesTogether() {
        List<Emoji> train = google.train(), held = google.heldOut();
        Set<String> trainCodes = codes(train), heldCodes = codes(held);
        assertTrue(disjoint(trainCodes, heldCodes));
        assertEquals(IMAGES, trainCodes.size() + heldCodes.size());
        long heldBases = held.stream().filter(e -> !e.isSkinVariant()).count();
        assertTrue(heldBases > BASE * 0.07 && heldBases < BASE * 0.13, "held-out base emoji: " + heldBases);
        Set<String> heldBaseCodes = held.stream().map(Emoji::base).collect(Collectors.toSet());
        assertTrue(train.stream().noneMatch(e -> heldBaseCodes.contains(e.base())), "a skin tone leaked into training");
        // The same split for the other style and on every load.
        assertEquals(heldCodes, codes(twitter.heldOut()));
        assertEquals(heldCodes, codes(EmojiSet.load(DataRoot.resolve().dir(), "google").heldOut()));
        // Pinned: changing the hash or the share would silently move emoji between train and test.
        assertEquals(HELD_OUT_BASES, heldBases);
    }

    /** The split of emoji-datasource 16.0.0 by FNV-1a; update only together with a deliberate change of the split. */
    static final long HELD_OUT_BASES = 193;

    @Test
    void imagesAreCompositedOverWhiteAndAreaAveraged() {
        Emoji grin = google.byUnified("1F600").orElseThrow();
        BufferedImage png = Canvas.read(grin.imageFile());
        assertEquals(64, png.getWidth());
        assertEquals(0, png.getRGB(0, 0) >>> 24, "the PNG's corner is transparent");
        BufferedImage full = grin.image(64), half = grin.image(32);
        assertEquals(BufferedImage.TYPE_INT_RGB, half.getType());
        assertEquals(32, half.getWidth());
        assertEquals(32, half.getHeight());
        assertEquals(0xFFFFFF, full.getRGB(0, 0) & 0xFFFFFF, "transparent becomes white");
        assertEquals(0xFFFFFF, half.getRGB(0, 0) & 0xFFFFFF);
        assertNotEquals(0xFFFFFF, half.getRGB(16, 16) & 0xFFFFFF, "the face is not white");
        // Area averaging: each 32x32 pixel is the mean of the 2x2 block of 64x64 pixels under it.
        for (int y = 0; y < 32; y += 5)
            for (int x = 0; x < 32; x += 5)
                for (int shift = 0; shift <= 16; shift += 8) {
                    int sum = 0;
                    for (int d = 0; d < 4; d++) sum += (full.getRGB(2 * x + d % 2, 2 * y + d / 2) >> shift) & 0xff;
                    int got = (half.getRGB(x, y) >> shift) & 0xff;
                    assertTrue(Math.abs(got - sum / 4.0) <= 1.0, "pixel " + x + "," + y + ": " + got + " vs " + sum / 4.0);
                }
        BufferedImage big = grin.image(96);
        assertEquals(0xFFFFFF, big.getRGB(0, 0) & 0xFFFFFF);
    }

    @Test
    void corruptPngIsADataExceptionNamingTheFile(@TempDir Path tmp) throws Exception {
        Emoji grin = google.byUnified("1F600").orElseThrow();
        byte[] bytes = Files.readAllBytes(grin.imageFile());
        Path truncated = tmp.resolve("1f600.png");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 3));
        Emoji broken = new Emoji(grin.unified(), grin.base(), grin.character(), grin.name(), grin.shortNames(),
                grin.category(), grin.subcategory(), null, grin.keywords(), "google", truncated);
        DataException e = assertThrows(DataException.class, () -> broken.image(32));
        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("./latte data fetch"), e.getMessage());

        Path text = tmp.resolve("text.png");
        Files.writeString(text, "not a png");
        DataException e2 = assertThrows(DataException.class, () -> Canvas.read(text));
        assertTrue(e2.getMessage().contains(text.toString()), e2.getMessage());
    }

    @Test
    void missingFoldersAreDataExceptionsNamingThem(@TempDir Path tmp) throws Exception {
        DataException none = assertThrows(DataException.class, () -> EmojiSet.load(tmp, "google"));
        assertTrue(none.getMessage().contains(tmp.resolve("emoji").toString()), none.getMessage());
        assertTrue(none.getMessage().contains("./latte data fetch"), none.getMessage());

        Files.createDirectories(tmp.resolve("emoji"));
        DataException unfinished = assertThrows(DataException.class, () -> EmojiSet.load(tmp, "google"));
        assertTrue(unfinished.getMessage().contains(".complete-emoji"), unfinished.getMessage());

        Files.writeString(tmp.resolve(".complete-emoji"), "test");
        DataException images = assertThrows(DataException.class, () -> EmojiSet.load(tmp, "google"));
        assertTrue(images.getMessage().contains(tmp.resolve("emoji/google/64").toString()), images.getMessage());

        Files.createDirectories(tmp.resolve("emoji/google/64"));
        Files.writeString(tmp.resolve("emoji/emojilib.json"), "{}");
        Files.writeString(tmp.resolve("emoji/emoji.json"), "[{\"unified\": ");
        DataException json = assertThrows(DataException.class, () -> EmojiSet.load(tmp, "google"));
        assertTrue(json.getMessage().contains(tmp.resolve("emoji/emoji.json").toString()), json.getMessage());

        assertThrows(IllegalArgumentException.class, () -> EmojiSet.load(tmp, "apple"));
    }

    static Set<String> codes(List<Emoji> emoji) {
        return emoji.stream().map(Emoji::unified).collect(Collectors.toSet());
    }

    static boolean disjoint(Set<String> a, Set<String> b) {
        Set<String> both = new HashSet<>(a);
        both.retainAll(b);
        return both.isEmpty();
    }
}
