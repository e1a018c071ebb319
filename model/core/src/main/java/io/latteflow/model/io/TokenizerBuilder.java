package io.latteflow.model.io;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a word-level Hugging Face {@code tokenizer.json} built from a caption corpus, so small
 * models need no downloaded tokenizer.
 *
 * <pre>{@code
 * TokenizerBuilder.writeWordLevel(captions, 5000, dir.resolve("tokenizer.json"));
 * LatteTokenizer tok = LatteTokenizer.load(dir.resolve("tokenizer.json"));
 * }</pre>
 *
 * <p>The tokenizer lowercases (after NFKC), splits on whitespace and isolates every punctuation
 * character. Ids: {@code [UNK]} is 0, then the kept words by descending count, ties
 * alphabetical, then the six Qwen2-VL special tokens of {@link LatteTokenizer}. The same corpus
 * always gives a byte-identical file.
 */
public final class TokenizerBuilder {

    static final String UNK = "[UNK]";

    private TokenizerBuilder() {}

    /**
     * Counts the words of {@code corpus} and writes the tokenizer to {@code out} atomically.
     *
     * @param maxVocab how many distinct corpus words to keep at most; the resulting vocab size is
     *     the number kept plus 1 ({@code [UNK]}) plus 6 special tokens
     */
    public static void writeWordLevel(Iterable<String> corpus, int maxVocab, Path out)
            throws IOException {
        if (maxVocab < 0) {
            throw new IllegalArgumentException("maxVocab must be >= 0, got " + maxVocab);
        }
        Map<String, Long> counts = new HashMap<>();
        for (String text : corpus) {
            for (String word : words(text)) {
                counts.merge(word, 1L, Long::sum);
            }
        }
        List<String> kept = counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
                        .thenComparing(Map.Entry.comparingByKey()))
                .limit(maxVocab)
                .map(Map.Entry::getKey)
                .toList();
        write(toJson(kept), out);
    }

    /**
     * The words the written tokenizer sees in {@code text}: it must mirror the JSON's normalizer
     * (NFKC, Lowercase) and pre-tokenizer (WhitespaceSplit, Punctuation isolated), or corpus words
     * would be counted that never occur at encode time.
     */
    static List<String> words(String text) {
        String normalized = lowercase(Normalizer.normalize(text, Normalizer.Form.NFKC));
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < normalized.length(); ) {
            int cp = normalized.codePointAt(i);
            i += Character.charCount(cp);
            if (isWhitespace(cp) || isPunctuation(cp)) {
                if (!word.isEmpty()) {
                    words.add(word.toString());
                    word.setLength(0);
                }
                if (isPunctuation(cp)) {
                    words.add(Character.toString(cp));
                }
            } else {
                word.appendCodePoint(cp);
            }
        }
        if (!word.isEmpty()) {
            words.add(word.toString());
        }
        return words;
    }

    /**
     * Per code point, as the Rust Lowercase normalizer does: String.toLowerCase on whole text
     * would apply the context rule for final sigma, which the tokenizer does not.
     */
    private static String lowercase(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> b.append(Character.toString(cp).toLowerCase(Locale.ROOT)));
        return b.toString();
    }

    /** Rust's char::is_whitespace (Unicode White_Space), which differs from Java's. */
    private static boolean isWhitespace(int cp) {
        return Character.isSpaceChar(cp) || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85;
    }

    /** The Punctuation pre-tokenizer's test: ASCII punctuation or a Unicode P* category. */
    private static boolean isPunctuation(int cp) {
        if (cp < 0x80) {
            return cp > 0x20 && cp < 0x7F && !Character.isLetterOrDigit(cp);
        }
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION,
                    Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                    Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                    Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    private static ObjectNode toJson(List<String> words) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");

        ArrayNode added = root.putArray("added_tokens");
        int nextId = words.size() + 1;
        for (String special : LatteTokenizer.SPECIAL_TOKENS) {
            added.addObject()
                    .put("id", nextId++)
                    .put("content", special)
                    .put("single_word", false)
                    .put("lstrip", false)
                    .put("rstrip", false)
                    .put("normalized", false)
                    .put("special", true);
        }

        ObjectNode normalizer = root.putObject("normalizer").put("type", "Sequence");
        ArrayNode normalizers = normalizer.putArray("normalizers");
        normalizers.addObject().put("type", "NFKC");
        normalizers.addObject().put("type", "Lowercase");

        ObjectNode preTokenizer = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode preTokenizers = preTokenizer.putArray("pretokenizers");
        preTokenizers.addObject().put("type", "WhitespaceSplit");
        preTokenizers.addObject().put("type", "Punctuation").put("behavior", "Isolated");

        root.putNull("post_processor");
        // With no decoder, Hugging Face decode joins the tokens with single spaces.
        root.putNull("decoder");

        ObjectNode model = root.putObject("model").put("type", "WordLevel");
        ObjectNode vocab = model.putObject("vocab");
        vocab.put(UNK, 0);
        for (int i = 0; i < words.size(); i++) {
            vocab.put(words.get(i), i + 1);
        }
        model.put("unk_token", UNK);
        return root;
    }

    private static void write(ObjectNode json, Path out) throws IOException {
        // Fixed "\n" so the bytes do not depend on the platform's line separator.
        DefaultPrettyPrinter printer =
                new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));
        byte[] bytes = (new ObjectMapper().writer(printer).writeValueAsString(json) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".tokenizer-", ".json.tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
