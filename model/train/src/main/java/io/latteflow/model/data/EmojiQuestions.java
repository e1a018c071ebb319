package io.latteflow.model.data;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Visual questions with short lower-case answers, taken from the emoji metadata: about one emoji (name, category,
 * subcategory, flag or not, which country, skin tone) and about a {@link Canvas} of 2 to 4 emoji in a row
 * (how many, what is left or right of one of them).
 *
 * <pre>{@code
 * List<VqaSample> qa = new EmojiQuestions(0, 32).about(grin);   // ("what is this?", "grinning face", "name"), ...
 * }</pre>
 *
 * <p>Question types: {@code name}, {@code category}, {@code subcategory}, {@code flag}, {@code country},
 * {@code skin-tone}, {@code count}, {@code left-of}, {@code right-of}. The same seed gives the same canvases.
 */
public final class EmojiQuestions {
    public static final String NAME = "name", CATEGORY = "category", SUBCATEGORY = "subcategory", FLAG = "flag",
            COUNTRY = "country", SKIN_TONE = "skin-tone", COUNT = "count", LEFT_OF = "left-of", RIGHT_OF = "right-of";
    /** Canvases hold 2 to this many emoji. */
    public static final int MAX_ON_CANVAS = 4;

    private final long seed;
    private final int imageSize;

    /** Questions about images of {@code imageSize x imageSize} (the model's {@code LatteConfig.imageSize()}). */
    public EmojiQuestions(long seed, int imageSize) {
        if (imageSize < MAX_ON_CANVAS) throw new IllegalArgumentException("imageSize must be >= " + MAX_ON_CANVAS + ", got " + imageSize);
        this.seed = seed;
        this.imageSize = imageSize;
    }

    /** Every single-emoji question about {@code e}, all on one decoded image. */
    public List<VqaSample> about(Emoji e) {
        BufferedImage img = e.image(imageSize);
        List<VqaSample> out = new ArrayList<>();
        out.add(new VqaSample(img, "what is this?", e.name(), NAME));
        out.add(new VqaSample(img, "which category is this?", e.categoryWords(), CATEGORY));
        out.add(new VqaSample(img, "which subcategory is this?", e.subcategoryWords(), SUBCATEGORY));
        out.add(new VqaSample(img, "is this a flag?", e.isFlag() ? "yes" : "no", FLAG));
        if (e.country() != null) out.add(new VqaSample(img, "which country is this flag?", e.country(), COUNTRY));
        // Asked of every emoji: "none" for the base emoji roughly balances the ~1900 toned variants.
        out.add(new VqaSample(img, "what skin tone is this?", e.skinTone() == null ? "none" : e.skinTone(), SKIN_TONE));
        return out;
    }

    /** The count, left-of and right-of questions about {@code c}. */
    public List<VqaSample> about(Canvas c) {
        List<Emoji> items = c.items();
        int n = items.size();
        Random r = random("questions/" + names(items));
        List<VqaSample> out = new ArrayList<>();
        out.add(new VqaSample(c.image(), "how many emoji are there?", Integer.toString(n), COUNT));
        if (n >= 2) {
            int i = 1 + r.nextInt(n - 1);      // has a left neighbour
            out.add(new VqaSample(c.image(), "what is left of the " + items.get(i).name() + "?", items.get(i - 1).name(), LEFT_OF));
            int j = r.nextInt(n - 1);          // has a right neighbour
            out.add(new VqaSample(c.image(), "what is right of the " + items.get(j).name() + "?", items.get(j + 1).name(), RIGHT_OF));
        }
        return out;
    }

    /**
     * Canvas number {@code index} drawn from {@code pool}: 2 to 4 emoji with distinct names (so "left of X" has
     * one answer; fewer than 4 when the pool has fewer names), fixed by the seed, the index and the pool's order.
     */
    public Canvas canvas(List<Emoji> pool, int index) {
        Set<String> names = new HashSet<>();
        for (Emoji e : pool) names.add(e.name());
        if (names.size() < 2) throw new IllegalArgumentException("a canvas needs 2 emoji of distinct names, the pool has " + names.size());
        Random r = random("canvas/" + index);
        int n = Math.min(names.size(), 2 + r.nextInt(MAX_ON_CANVAS - 1));
        List<Emoji> items = new ArrayList<>();
        Set<String> used = new HashSet<>();
        while (items.size() < n) {
            Emoji e = pool.get(r.nextInt(pool.size()));
            if (used.add(e.name())) items.add(e);
        }
        return Canvas.compose(items, imageSize);
    }

    /** The single-emoji questions about every emoji of {@code emoji}, then those about {@code canvases} canvases of them. */
    public List<VqaSample> samples(List<Emoji> emoji, int canvases) {
        List<VqaSample> out = new ArrayList<>();
        for (Emoji e : emoji) out.addAll(about(e));
        for (int i = 0; i < canvases; i++) out.addAll(about(canvas(emoji, i)));
        return out;
    }

    private Random random(String what) {
        return new Random(EmojiSet.fnv1a("latte-questions/" + seed + "/" + what));
    }

    private static String names(List<Emoji> items) {
        StringBuilder s = new StringBuilder();
        for (Emoji e : items) s.append(e.unified()).append('/');
        return s.toString();
    }
}
