package io.latteflow.model.io;

import ai.djl.engine.EngineException;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A Hugging Face {@code tokenizer.json} (through DJL's native binding) plus the Qwen2-VL special
 * tokens the model relies on.
 *
 * <pre>{@code
 * try (LatteTokenizer tok = LatteTokenizer.load(Path.of("tokenizer.json"))) {
 *     int[] ids = tok.encode("a red bicycle");   // no special tokens are added
 *     String text = tok.decode(ids);             // special tokens are skipped
 *     int pad = tok.padId();
 * }
 * }</pre>
 *
 * <p>Thread safety: one instance may be shared; {@link #encode} and {@link #decode} may run
 * concurrently from any number of threads. {@link #close} waits for calls in flight and makes
 * later calls fail with {@link IllegalStateException}.
 *
 * <p>As in Hugging Face, the literal text of an added token (e.g. {@code <|im_end|>}) inside the
 * input still encodes to that token's id.
 *
 * <p>DJL's factory performs a usage "call home" over the network unless told otherwise; loading
 * sets the system property {@code OPT_OUT_TRACKING=true} when neither it nor DJL's offline switch
 * is set, so loading a tokenizer never touches the network. The native library comes from the DJL
 * jar itself and is unpacked under {@code DJL_CACHE_DIR} (default {@code ~/.djl.ai}).
 */
public final class LatteTokenizer implements AutoCloseable {

    static final String END_OF_TEXT = "<|endoftext|>";
    static final String IM_START = "<|im_start|>";
    static final String IM_END = "<|im_end|>";
    static final String VISION_START = "<|vision_start|>";
    static final String VISION_END = "<|vision_end|>";
    static final String IMAGE_PAD = "<|image_pad|>";

    /** In the order {@link TokenizerBuilder} appends them. */
    static final String[] SPECIAL_TOKENS = {
        END_OF_TEXT, IM_START, IM_END, VISION_START, VISION_END, IMAGE_PAD
    };

    /** Ids are below this; the largest real vocabularies hold a few hundred thousand tokens. */
    static final int MAX_ID = (1 << 24) - 1;

    private final HuggingFaceTokenizer tokenizer;
    /** Token text by id, one entry per token of the file; {@link #vocabSize} is its largest id plus one. */
    private final Map<Integer, String> tokensById;
    private final int vocabSize;
    private final Map<String, Integer> specialIds;
    // Encode/decode share the native handle; the write lock keeps close() from freeing it under them.
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private final boolean wordLevel;

    private LatteTokenizer(HuggingFaceTokenizer tokenizer, Map<Integer, String> tokensById, Map<String, Integer> specialIds,
            boolean wordLevel) {
        this.tokenizer = tokenizer;
        this.wordLevel = wordLevel;
        this.tokensById = tokensById;
        this.vocabSize = tokensById.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        this.specialIds = specialIds;
    }

    /**
     * Loads a Hugging Face {@code tokenizer.json}.
     *
     * @throws IOException if the file is missing or unreadable, is not a valid tokenizer, or lacks
     *     one of the six special tokens as an added special token; the message names the file
     */
    public static LatteTokenizer load(Path tokenizerJson) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizerJson);
        } catch (NoSuchFileException e) {
            throw new IOException("tokenizer file not found: " + tokenizerJson, e);
        } catch (IOException e) {
            throw new IOException("cannot read tokenizer file " + tokenizerJson + ": " + e, e);
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(bytes);
        } catch (JacksonException e) {
            throw new IOException(
                    "tokenizer file " + tokenizerJson + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw new IOException("tokenizer file " + tokenizerJson + " has no \"model\" object");
        }
        Map<Integer, String> tokensById = tokensById(root, tokenizerJson);
        Map<String, Integer> specialIds = specialIds(root, tokenizerJson);

        optOutOfTelemetry();
        HuggingFaceTokenizer tokenizer;
        try {
            // No truncation or padding: callers get exactly the ids of their text and decide lengths.
            tokenizer = HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(bytes),
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        } catch (EngineException e) {
            throw e; // the native library failed to load: not a problem of this file
        } catch (RuntimeException e) {
            throw new IOException(
                    "tokenizer file " + tokenizerJson + " is not a valid Hugging Face tokenizer: "
                            + e.getMessage(), e);
        }
        // A word-level vocabulary without a decoder: Hugging Face joins its tokens with spaces (see WordDetokenizer).
        boolean wordLevel = "WordLevel".equals(root.path("model").path("type").asText()) && (root.path("decoder").isMissingNode() || root.path("decoder").isNull());
        return new LatteTokenizer(tokenizer, tokensById, specialIds, wordLevel);
    }

    private static void optOutOfTelemetry() {
        boolean decided = System.getProperty("OPT_OUT_TRACKING") != null
                || System.getenv("OPT_OUT_TRACKING") != null
                || System.getProperty("ai.djl.offline") != null
                || System.getenv("DJL_OFFLINE") != null
                || Boolean.getBoolean("offline");
        if (!decided) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    /**
     * DJL offers no id-to-token lookup, so it is built from the file's vocab and added tokens. Ids are checked here,
     * before anything is sized by them (issue 19: one added token with {@code "id": 2000000000}
     * allocated an array of two billion entries and died with {@code OutOfMemoryError}; {@code 2147483647} overflowed
     * to a negative size). The lookup holds one entry per token the file lists, whatever ids it declares.
     */
    private static Map<Integer, String> tokensById(JsonNode root, Path file) throws IOException {
        Map<Integer, String> byId = new HashMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) { // WordLevel, WordPiece, BPE: token -> id
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                byId.put(id(e.getValue(), "vocab entry '" + e.getKey() + "'", file), e.getKey());
            }
        } else if (vocab.isArray()) { // Unigram: [[piece, score], ...], id = position
            for (int i = 0; i < vocab.size(); i++) {
                byId.put(i, vocab.get(i).path(0).asText());
            }
        } else {
            throw new IOException("tokenizer file " + file + " has no model vocab");
        }
        for (JsonNode added : root.path("added_tokens")) {
            byId.put(id(added.path("id"), "added token '" + added.path("content").asText() + "'", file),
                    added.path("content").asText());
        }
        return byId;
    }

    /** A token id as the file gives it: a whole number from 0 to {@link #MAX_ID}. */
    private static int id(JsonNode value, String what, Path file) throws IOException {
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0 || value.longValue() > MAX_ID) {
            throw new IOException("tokenizer file " + file + ": the id of " + what + " is " + value
                    + ", not a whole number from 0 to " + MAX_ID);
        }
        return value.intValue();
    }

    private static Map<String, Integer> specialIds(JsonNode root, Path file) throws IOException {
        Map<String, Integer> found = new HashMap<>();
        for (JsonNode added : root.path("added_tokens")) {
            if (added.path("special").asBoolean(false)) {
                found.put(added.path("content").asText(), added.path("id").asInt());
            }
        }
        Map<String, Integer> ids = new HashMap<>();
        for (String name : SPECIAL_TOKENS) {
            Integer id = found.get(name);
            if (id == null) {
                throw new IOException("tokenizer file " + file + " lacks the special token " + name
                        + " (it must be in \"added_tokens\" with \"special\": true)");
            }
            ids.put(name, id);
        }
        return Map.copyOf(ids);
    }

    /** Token ids of {@code text}, with no special tokens added; empty text gives an empty array. */
    public int[] encode(String text) {
        long[] ids;
        lock.readLock().lock();
        try {
            ensureOpen();
            ids = tokenizer.encode(text, false, false).getIds();
        } finally {
            lock.readLock().unlock();
        }
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * Text of {@code ids}, leaving out special tokens; from a word-level vocabulary, with punctuation against its
     * words ({@link WordDetokenizer}), where Hugging Face's decode puts a space on each side.
     */
    public String decode(int[] ids) {
        long[] longIds = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longIds[i] = ids[i];
        }
        lock.readLock().lock();
        try {
            ensureOpen();
            String text = tokenizer.decode(longIds, true);
            return wordLevel ? WordDetokenizer.attach(text) : text;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Largest id in the vocab or the added tokens, plus one. */
    public int vocabSize() {
        return vocabSize;
    }

    /**
     * The vocab entry for {@code id}, as stored in the file (not decoded).
     *
     * @throws IllegalArgumentException if no token has that id
     */
    public String token(int id) {
        String token = tokensById.get(id);
        if (token == null) {
            throw new IllegalArgumentException("no token with id " + id);
        }
        return token;
    }

    /** The id of a token given as stored in the file (e.g. {@code <|video_pad|>}), or -1 if the vocabulary lacks it. */
    public int idOf(String token) {
        return tokensById.entrySet().stream().filter(e -> e.getValue().equals(token)).mapToInt(Map.Entry::getKey).min().orElse(-1);
    }

    public int endOfText() {
        return specialIds.get(END_OF_TEXT);
    }

    public int imStart() {
        return specialIds.get(IM_START);
    }

    public int imEnd() {
        return specialIds.get(IM_END);
    }

    public int visionStart() {
        return specialIds.get(VISION_START);
    }

    public int visionEnd() {
        return specialIds.get(VISION_END);
    }

    public int imagePad() {
        return specialIds.get(IMAGE_PAD);
    }

    /** Padding id: {@code <|endoftext|>}, as in Qwen2. */
    public int padId() {
        return endOfText();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("tokenizer is closed");
        }
    }

    /** Frees the native tokenizer; idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                tokenizer.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
