package io.latteflow.model.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WordDetokenizerTest {
    /** Emoji names and answers of the training data (Unicode CLDR names, as data/emoji writes them). */
    private static final List<String> NAMES = List.of("man: red hair", "kiss: woman, woman", "medium-light and light",
            "flag: st. kitts & nevis", "a button (blood type)", "keycap: #", "woman\u2019s hat", "t-rex", "on! arrow",
            "japanese \u201Cbargain\u201D button", "food & drink", "person role", "0/1 (yes/no)", "u.s. virgin islands flag");

    @TempDir
    Path dir;

    @Test
    void namesComeBackAsWrittenThroughAWordLevelTokenizer() throws IOException {
        Path json = dir.resolve("tokenizer.json");
        TokenizerBuilder.writeWordLevel(NAMES, 1000, json);
        try (LatteTokenizer tok = LatteTokenizer.load(json)) {
            for (String name : NAMES) assertEquals(name, tok.decode(tok.encode(name)), "Hugging Face's spaced decode: " + name);
        }
    }

    @Test
    void wordsAndSpacesOfTheSpacedTextAreKept() {
        assertEquals("a red bicycle near the wall", WordDetokenizer.attach("a red bicycle near the wall"));
        assertEquals("kiss: woman, woman", WordDetokenizer.attach("kiss : woman , woman"));
        assertEquals("- what? (yes)", WordDetokenizer.attach("- what ? ( yes )"));
        assertEquals("", WordDetokenizer.attach(""));
    }
}
