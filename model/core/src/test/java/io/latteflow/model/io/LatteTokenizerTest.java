package io.latteflow.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatteTokenizerTest {

    private static final List<String> CORPUS = List.of(
            "A red bicycle leaning against a wall.",
            "Two dogs play in the snow; one dog is brown!",
            "A RED car parked near the red wall",
            "Café sign, \"open\" (24/7) — ﬁne print",
            "ΟΔΟΣ ΣΟΦΙΑΣ\u00a0tab\there_underscore and İstanbul",
            "ＦＵＬＬ width ½ $5+3=8 emoji😀… «quoted» ¿qué?");

    @TempDir
    Path dir;

    private Path build(List<String> corpus, int maxVocab) throws IOException {
        Path out = dir.resolve("tokenizer.json");
        TokenizerBuilder.writeWordLevel(corpus, maxVocab, out);
        return out;
    }

    @Test
    void encodeThenDecodeGivesLowercasedWordsJoinedBySpaces() throws IOException {
        try (LatteTokenizer tok = LatteTokenizer.load(build(CORPUS, 1000))) {
            int[] ids = tok.encode("A Red BICYCLE near the wall");
            assertEquals(6, ids.length);
            assertEquals("a red bicycle near the wall", tok.decode(ids));
        }
    }

    @Test
    void everyCorpusWordEncodesToAKnownId() throws IOException {
        try (LatteTokenizer tok = LatteTokenizer.load(build(CORPUS, 1000))) {
            for (String caption : CORPUS) {
                int[] ids = tok.encode(caption);
                assertTrue(ids.length > 0, caption);
                for (int id : ids) {
                    assertNotEquals(0, id, () -> "[UNK] in encoding of: " + caption);
                }
                assertEquals(TokenizerBuilder.words(caption).size(), ids.length, caption);
            }
        }
    }

    @Test
    void idsFollowDescendingCountThenAlphabeticalOrder() throws IOException {
        try (LatteTokenizer tok = LatteTokenizer.load(
                build(List.of("b a c b", "c b", "d"), 10))) {
            assertEquals("[UNK]", tok.token(0));
            assertEquals(List.of("b", "c", "a", "d"),
                    List.of(tok.token(1), tok.token(2), tok.token(3), tok.token(4)));
        }
    }

    @Test
    void specialTokensAreDistinctAndAfterAllWords() throws IOException {
        try (LatteTokenizer tok = LatteTokenizer.load(build(CORPUS, 1000))) {
            int[] specials = {tok.endOfText(), tok.imStart(), tok.imEnd(),
                tok.visionStart(), tok.visionEnd(), tok.imagePad()};
            Set<Integer> distinct = new HashSet<>();
            int wordCount = vocabEntries(dir.resolve("tokenizer.json"));
            for (int id : specials) {
                distinct.add(id);
                assertTrue(id >= wordCount, "special id " + id + " overlaps word ids");
            }
            assertEquals(6, distinct.size());
            assertEquals(tok.endOfText(), tok.padId());
            assertEquals(wordCount + 6, tok.vocabSize());
            assertEquals("<|vision_start|>", tok.token(tok.visionStart()));
        }
    }

    @Test
    void specialTokenTextEncodesToTheSameIdsTheFileDeclaresAndDecodeSkipsThem()
            throws IOException {
        try (LatteTokenizer tok = LatteTokenizer.load(build(CORPUS, 1000))) {
            int[] ids = tok.encode("<|im_start|>red wall<|im_end|>");
            int red = tok.encode("red")[0];
            int wall = tok.encode("wall")[0];
            assertArrayEquals(new int[] {tok.imStart(), red, wall, tok.imEnd()}, ids);
            assertEquals("red wall", tok.decode(
                    new int[] {tok.visionStart(), tok.imagePad(), tok.visionEnd(), red, wall,
                        tok.endOfText()}));
        }
    }

    @Test
    void unknownWordsMapToUnk() throws IOException {
        try (LatteTokenizer tok = LatteTokenizer.load(build(CORPUS, 1000))) {
            int[] ids = tok.encode("red zebra");
            assertEquals(2, ids.length);
            assertNotEquals(0, ids[0]);
            assertEquals(0, ids[1]);
        }
    }

    @Test
    void maxVocabDropsTheRarestWords() throws IOException {
        try (LatteTokenizer tok = LatteTokenizer.load(build(List.of("x x x y y z"), 2))) {
            assertArrayEquals(new int[] {1, 2, 0}, tok.encode("x y z"));
            assertEquals(1 + 2 + 6, tok.vocabSize());
        }
    }

    @Test
    void emptyStringEncodesToEmptyArray() throws IOException {
        try (LatteTokenizer tok = LatteTokenizer.load(build(CORPUS, 1000))) {
            assertArrayEquals(new int[0], tok.encode(""));
            assertEquals("", tok.decode(new int[0]));
        }
    }

    @Test
    void sameCorpusGivesByteIdenticalFile() throws IOException {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        TokenizerBuilder.writeWordLevel(CORPUS, 1000, a);
        List<String> reversed = new ArrayList<>(CORPUS);
        java.util.Collections.reverse(reversed);
        TokenizerBuilder.writeWordLevel(reversed, 1000, b);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "temp file left behind");
        }
    }

    @Test
    void concurrentEncodeFromFourThreadsGivesTheSameIds() throws Exception {
        try (LatteTokenizer tok = LatteTokenizer.load(build(CORPUS, 1000))) {
            List<int[]> expected = new ArrayList<>();
            for (String caption : CORPUS) {
                expected.add(tok.encode(caption));
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Callable<Void>> jobs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    jobs.add(() -> {
                        for (int round = 0; round < 200; round++) {
                            for (int i = 0; i < CORPUS.size(); i++) {
                                assertArrayEquals(expected.get(i), tok.encode(CORPUS.get(i)));
                            }
                        }
                        return null;
                    });
                }
                for (Future<Void> f : pool.invokeAll(jobs)) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void useAfterCloseFailsClearly() throws IOException {
        LatteTokenizer tok = LatteTokenizer.load(build(CORPUS, 1000));
        tok.close();
        tok.close();
        assertThrows(IllegalStateException.class, () -> tok.encode("red"));
    }

    @Test
    void loadingAMissingFileNamesIt() {
        Path missing = dir.resolve("nope.json");
        IOException e = assertThrows(IOException.class, () -> LatteTokenizer.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void loadingCorruptJsonNamesTheFile() throws IOException {
        Path corrupt = dir.resolve("corrupt.json");
        Files.writeString(corrupt, "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {");
        IOException e = assertThrows(IOException.class, () -> LatteTokenizer.load(corrupt));
        assertTrue(e.getMessage().contains(corrupt.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void loadingValidJsonThatIsNotATokenizerNamesTheFile() throws IOException {
        Path bogus = build(CORPUS, 1000);
        ObjectNode root = (ObjectNode) new ObjectMapper().readTree(bogus.toFile());
        ((ObjectNode) root.get("model")).put("type", "NoSuchModel");
        Files.writeString(bogus, root.toString());
        IOException e = assertThrows(IOException.class, () -> LatteTokenizer.load(bogus));
        assertTrue(e.getMessage().contains(bogus.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not a valid Hugging Face tokenizer"), e.getMessage());
    }

    @Test
    void loadingATokenizerWithoutVisionStartNamesTheMissingToken() throws IOException {
        Path file = build(CORPUS, 1000);
        ObjectNode root = (ObjectNode) new ObjectMapper().readTree(file.toFile());
        ArrayNode added = (ArrayNode) root.get("added_tokens");
        for (int i = added.size() - 1; i >= 0; i--) {
            if (added.get(i).get("content").asText().equals("<|vision_start|>")) {
                added.remove(i);
            }
        }
        Files.writeString(file, root.toString(), StandardCharsets.UTF_8);
        IOException e = assertThrows(IOException.class, () -> LatteTokenizer.load(file));
        assertTrue(e.getMessage().contains("<|vision_start|>"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    private static int vocabEntries(Path tokenizerJson) throws IOException {
        return new ObjectMapper().readTree(tokenizerJson.toFile()).get("model").get("vocab").size();
    }
}
