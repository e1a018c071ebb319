package io.latteflow.model.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The emoji of one style ("google" or "twitter") from the fetched {@code data/emoji} folder: one {@link Emoji} per
 * PNG that exists, base emoji and skin-tone variants, in emoji.json's order, with a fixed held-out split.
 *
 * <pre>{@code
 * EmojiSet google = EmojiSet.load(DataRoot.resolve().dir(), "google");   // 3786 emoji
 * List<Emoji> train = google.train(), test = google.heldOut();            // ~90% / ~10% of the base emoji
 * }</pre>
 */
public final class EmojiSet implements Iterable<Emoji> {
    /** The styles {@code data/fetch.sh} downloads. */
    public static final List<String> STYLES = List.of("google", "twitter");
    /** emoji.json's categories in Unicode's order; {@link #categoryIndex} numbers them. */
    public static final List<String> CATEGORIES = List.of("Smileys & Emotion", "People & Body", "Component",
            "Animals & Nature", "Food & Drink", "Travel & Places", "Activities", "Objects", "Symbols", "Flags");
    /** Held-out share of the base emoji, in thousandths. */
    static final int HELD_OUT_PER_MILLE = 100;

    private static final Map<String, String> TONES = Map.of(
            "1F3FB", "light", "1F3FC", "medium-light", "1F3FD", "medium", "1F3FE", "medium-dark", "1F3FF", "dark");
    /** emojilib keywords that are words: drops emoticons such as ":D" and ":)" that would only add punctuation tokens. */
    private static final Pattern WORDY = Pattern.compile("[\\p{L}\\p{N}].*");
    private static final Pattern STRAY = Pattern.compile("[^\\p{L}\\p{N}\\p{M}'&.:\\-\\s]|\\p{Z}");

    private final String style;
    private final List<Emoji> emoji;
    private final Map<String, Emoji> byUnified;

    private EmojiSet(String style, List<Emoji> emoji) {
        this.style = style;
        this.emoji = List.copyOf(emoji);
        Map<String, Emoji> index = new HashMap<>();
        for (Emoji e : emoji) index.put(e.unified(), e);
        this.byUnified = index;
    }

    /** Loads {@code style} from the data root {@link DataRoot#resolve()} finds. */
    public static EmojiSet load(String style) {
        return load(DataRoot.resolve().dir(), style);
    }

    /**
     * Loads {@code style} from {@code root/emoji} ({@code root} is the data root, e.g. {@code ./data}).
     * Reads the metadata and lists the image folder; the PNGs themselves are decoded on demand.
     */
    public static EmojiSet load(Path root, String style) {
        if (!STYLES.contains(style)) throw new IllegalArgumentException("Unknown emoji style '" + style + "' " + STYLES);
        Path dir = new DataRoot(root).require("emoji");
        Path images = dir.resolve(style).resolve("64");
        Set<String> files = listPngs(images);
        Map<String, List<String>> keywords = readKeywords(dir.resolve("emojilib.json"));
        Path json = dir.resolve("emoji.json");
        JsonNode all = readJson(json);
        if (!all.isArray()) throw DataException.corrupt(json, "expected a JSON array of emoji", null);
        List<Emoji> out = new ArrayList<>();
        String has = "has_img_" + style;
        try {
            for (JsonNode e : all) {
                String unified = e.get("unified").asText();
                String name = name(e, unified);
                List<String> shortNames = new ArrayList<>();
                e.path("short_names").forEach(s -> shortNames.add(s.asText()));
                String category = e.get("category").asText(), subcategory = e.get("subcategory").asText();
                List<String> words = lookup(keywords, unified, e.path("non_qualified").asText(null), name);
                if (e.path(has).asBoolean(false) && files.contains(e.get("image").asText())) {
                    out.add(new Emoji(unified, unified, chars(unified), name, shortNames, category, subcategory, null,
                            words, style, images.resolve(e.get("image").asText())));
                }
                // Variants share the base's name and keywords: emojilib lists base emoji only.
                Iterator<Map.Entry<String, JsonNode>> variants = e.path("skin_variations").fields();
                while (variants.hasNext()) {
                    Map.Entry<String, JsonNode> v = variants.next();
                    String image = v.getValue().get("image").asText();
                    if (!v.getValue().path(has).asBoolean(false) || !files.contains(image)) continue;
                    String vUnified = v.getValue().get("unified").asText();
                    out.add(new Emoji(vUnified, unified, chars(vUnified), name, shortNames, category, subcategory,
                            tone(v.getKey()), words, style, images.resolve(image)));
                }
            }
        } catch (NullPointerException | IllegalArgumentException e) {   // a field missing or malformed
            throw DataException.corrupt(json, "unexpected entry: " + e.getMessage(), e);
        }
        if (out.isEmpty()) throw DataException.corrupt(images, "no PNG named in emoji.json is there", null);
        return new EmojiSet(style, out);
    }

    public String style() {
        return style;
    }

    /** Every emoji of this style, base emoji each followed by its skin-tone variants. */
    public List<Emoji> all() {
        return emoji;
    }

    public int size() {
        return emoji.size();
    }

    @Override
    public Iterator<Emoji> iterator() {
        return emoji.iterator();
    }

    public Stream<Emoji> stream() {
        return emoji.stream();
    }

    /** The emoji with this unified code ("1F600", "1F385-1F3FD"), case-insensitive. */
    public Optional<Emoji> byUnified(String unified) {
        return Optional.ofNullable(byUnified.get(unified.toUpperCase(Locale.ROOT)));
    }

    /** The emoji outside the held-out split (~90%). */
    public List<Emoji> train() {
        return emoji.stream().filter(e -> !isHeldOut(e)).toList();
    }

    /** The training ({@code heldOut} false) or held-out emoji of several styles, style by style. */
    public static List<Emoji> split(Path root, List<String> styles, boolean heldOut) {
        List<Emoji> out = new java.util.ArrayList<>();
        for (String style : styles) {
            EmojiSet set = load(root, style);
            out.addAll(heldOut ? set.heldOut() : set.train());
        }
        return out;
    }

    /** The held-out emoji (~10% of the base emoji, each with all its skin tones). */
    public List<Emoji> heldOut() {
        return emoji.stream().filter(EmojiSet::isHeldOut).toList();
    }

    /**
     * Whether {@code e} is held out: decided by a fixed hash of its base code alone, so the split is the same for
     * both styles, on every run and machine, and a skin-tone variant never leaks its held-out base into training.
     */
    public static boolean isHeldOut(Emoji e) {
        return Long.remainderUnsigned(fnv1a("latte-emoji-split/" + e.base()), 1000) < HELD_OUT_PER_MILLE;
    }

    /** The position of {@code category} in {@link #CATEGORIES}, or -1. */
    public static int categoryIndex(String category) {
        return CATEGORIES.indexOf(category);
    }

    /** 64-bit FNV-1a of the UTF-8 bytes: stable across JVMs, unlike {@code String.hashCode} mixing. */
    static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    private static String name(JsonNode e, String unified) {
        String name = e.path("name").asText(null);
        if (name == null || name.isBlank()) name = Character.getName(chars(unified).codePointAt(0));
        if (name == null || name.isBlank()) name = e.path("short_name").asText(unified).replace('_', ' ');
        return name.toLowerCase(Locale.ROOT).trim();
    }

    private static String tone(String key) {
        String[] parts = key.split("-");
        Set<String> tones = new LinkedHashSet<>();
        for (String p : parts) tones.add(TONES.getOrDefault(p, p.toLowerCase(Locale.ROOT)));
        return String.join(" and ", tones);   // "1F3FB-1F3FB" -> "light"; "1F3FB-1F3FF" -> "light and dark"
    }

    static String chars(String unified) {
        StringBuilder s = new StringBuilder();
        for (String cp : unified.split("-")) s.appendCodePoint(Integer.parseInt(cp, 16));
        return s.toString();
    }

    /** emojilib is keyed by the emoji string, sometimes without the variation selector U+FE0F. */
    private static List<String> lookup(Map<String, List<String>> keywords, String unified, String nonQualified, String name) {
        List<String> raw = keywords.get(chars(unified));
        if (raw == null && nonQualified != null) raw = keywords.get(chars(nonQualified));
        if (raw == null) raw = keywords.get(chars(unified).replace("\uFE0F", ""));
        if (raw == null) return List.of();
        Set<String> out = new LinkedHashSet<>();
        for (String k : raw) {
            // emojilib has stray marks (a curly quote after "business", a no-break space in "zimbabwean flag"):
            // keep letters, digits and the marks . : - & ' inside words.
            String w = STRAY.matcher(k.replace('_', ' ')).replaceAll(" ").replaceAll("\\s+", " ").trim().toLowerCase(Locale.ROOT);
            if (WORDY.matcher(w).matches() && !w.equals(name)) out.add(w);
        }
        return List.copyOf(out);
    }

    private static Map<String, List<String>> readKeywords(Path file) {
        JsonNode root = readJson(file);
        if (!root.isObject()) throw DataException.corrupt(file, "expected a JSON object of emoji -> keywords", null);
        Map<String, List<String>> out = new LinkedHashMap<>();
        root.fields().forEachRemaining(f -> {
            List<String> words = new ArrayList<>();
            f.getValue().forEach(w -> words.add(w.asText()));
            out.put(f.getKey(), words);
        });
        return out;
    }

    private static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) throw DataException.missing(file);
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw DataException.corrupt(file, "cannot parse the JSON: " + e.getMessage(), e);
        }
    }

    private static Set<String> listPngs(Path dir) {
        if (!Files.isDirectory(dir)) throw DataException.missing(dir);
        try (Stream<Path> files = Files.list(dir)) {
            Set<String> names = new HashSet<>();
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".png")).forEach(names::add);
            return Collections.unmodifiableSet(names);
        } catch (IOException e) {
            throw DataException.corrupt(dir, "cannot list the folder: " + e.getMessage(), e);
        }
    }
}
