package io.latteflow.model.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Questions built from the real fetched metadata; a missing data folder fails with the DataException message. */
class EmojiQuestionsITCase {
    static EmojiSet google;
    static final EmojiQuestions QUESTIONS = new EmojiQuestions(0, 32);

    @BeforeAll
    static void load() {
        google = EmojiSet.load(DataRoot.resolve().dir(), "google");
    }

    static Map<String, String> answers(List<VqaSample> samples) {
        return samples.stream().collect(Collectors.toMap(VqaSample::type, VqaSample::answer));
    }

    @Test
    void singleEmojiQuestionsAnswerFromTheMetadata() {
        Map<String, String> grin = answers(QUESTIONS.about(google.byUnified("1F600").orElseThrow()));
        assertEquals("grinning face", grin.get(EmojiQuestions.NAME));
        assertEquals("smileys & emotion", grin.get(EmojiQuestions.CATEGORY));
        assertEquals("face smiling", grin.get(EmojiQuestions.SUBCATEGORY));
        assertEquals("no", grin.get(EmojiQuestions.FLAG));
        assertEquals("none", grin.get(EmojiQuestions.SKIN_TONE));
        assertFalse(grin.containsKey(EmojiQuestions.COUNTRY));

        Map<String, String> japan = answers(QUESTIONS.about(google.byUnified("1F1EF-1F1F5").orElseThrow()));
        assertEquals("yes", japan.get(EmojiQuestions.FLAG));
        assertEquals("japan", japan.get(EmojiQuestions.COUNTRY));
        assertEquals("flags", japan.get(EmojiQuestions.CATEGORY));

        Map<String, String> santa = answers(QUESTIONS.about(google.byUnified("1F385-1F3FC").orElseThrow()));
        assertEquals("father christmas", santa.get(EmojiQuestions.NAME));
        assertEquals("medium-light", santa.get(EmojiQuestions.SKIN_TONE));
    }

    @Test
    void questionsShareOneImageOfTheModelsSize() {
        List<VqaSample> qa = QUESTIONS.about(google.byUnified("1F34E").orElseThrow());
        BufferedImage img = qa.get(0).image();
        assertEquals(32, img.getWidth());
        assertTrue(qa.stream().allMatch(s -> s.image() == img));
        assertTrue(qa.stream().allMatch(s -> s.question().endsWith("?")));
    }

    @Test
    void canvasDrawsItsEmojiInARowOnWhite() {
        List<Emoji> three = List.of(google.byUnified("1F534").orElseThrow(), google.byUnified("1F600").orElseThrow(),
                google.byUnified("1F7E6").orElseThrow());
        Canvas c = Canvas.compose(three, 32);     // cells of 10 pixels at x = 1, 11, 21; y = 11
        assertEquals(32, c.image().getWidth());
        assertEquals(3, c.count());
        for (int x = 0; x < 32; x++) {
            assertEquals(0xFFFFFF, c.image().getRGB(x, 0) & 0xFFFFFF, "top margin is white");
            assertEquals(0xFFFFFF, c.image().getRGB(x, 31) & 0xFFFFFF, "bottom margin is white");
        }
        int red = c.image().getRGB(6, 16), blue = c.image().getRGB(26, 16);
        assertTrue(((red >> 16) & 0xff) > 150 && (red & 0xff) < 100, Integer.toHexString(red));
        assertTrue((blue & 0xff) > 150 && ((blue >> 16) & 0xff) < 100, Integer.toHexString(blue));

        Map<String, VqaSample> qa = QUESTIONS.about(c).stream().collect(Collectors.toMap(VqaSample::type, s -> s));
        assertEquals("3", qa.get(EmojiQuestions.COUNT).answer());
        assertEquals("how many emoji are there?", qa.get(EmojiQuestions.COUNT).question());
        VqaSample left = qa.get(EmojiQuestions.LEFT_OF), right = qa.get(EmojiQuestions.RIGHT_OF);
        List<String> names = three.stream().map(Emoji::name).toList();
        int subject = indexNamed(names, left.question());
        assertEquals(names.get(subject - 1), left.answer());
        int rightSubject = indexNamed(names, right.question());
        assertEquals(names.get(rightSubject + 1), right.answer());
    }

    @Test
    void canvasesAreFixedBySeedAndCountCorrectly() {
        List<Emoji> pool = google.train();
        for (int i = 0; i < 12; i++) {
            Canvas a = QUESTIONS.canvas(pool, i), b = new EmojiQuestions(0, 32).canvas(pool, i);
            assertEquals(a.items(), b.items());
            assertTrue(a.count() >= 2 && a.count() <= EmojiQuestions.MAX_ON_CANVAS);
            assertEquals(a.count(), a.items().stream().map(Emoji::name).distinct().count(), "names are distinct");
            assertEquals(Integer.toString(a.count()), QUESTIONS.about(a).get(0).answer());
            assertTrue(pool.containsAll(a.items()));
        }
        assertNotEquals(QUESTIONS.canvas(pool, 0).items(), new EmojiQuestions(1, 32).canvas(pool, 0).items());
    }

    @Test
    void samplesCoverEveryTypeWithShortLowercaseAnswers() {
        List<Emoji> some = google.all().stream().filter(e -> e.unified().hashCode() % 60 == 0).toList();
        List<VqaSample> all = QUESTIONS.samples(some, 4);
        int single = some.stream().mapToInt(e -> e.country() == null ? 5 : 6).sum();
        assertEquals(single + 4 * 3, all.size());
        for (VqaSample s : all) {
            assertEquals(s.answer().toLowerCase(Locale.ROOT), s.answer());
            assertFalse(s.answer().isBlank());
            assertTrue(EmojiCaptions.tokens(s.answer()) <= 20, s.answer());
            assertTrue(EmojiCaptions.tokens(s.question()) <= 24, s.question());
        }
        assertEquals(List.of("category", "count", "flag", "left-of", "name", "right-of", "skin-tone", "subcategory"),
                all.stream().map(VqaSample::type).distinct().sorted().filter(t -> !t.equals("country")).toList());
    }

    private static int indexNamed(List<String> names, String question) {
        for (int i = 0; i < names.size(); i++) if (question.contains(" " + names.get(i) + "?")) return i;
        throw new AssertionError("no emoji name in: " + question);
    }
}
