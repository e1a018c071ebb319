package io.latteflow.model.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.latteflow.model.fuzz.FuzzFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of {@code tokenizer.json} loading (issue 19), which parses the file twice: ourselves (vocabulary and
 * special tokens) and in DJL's native Hugging Face tokenizers library (Rust, through JNI). Any bytes either load, and
 * then encode and decode text, or fail with an {@link IOException} that names the file. A native crash kills the
 * JVM: the test run fails ("The forked VM terminated without saying properly goodbye") and {@code fuzz/fuzz-long.sh}
 * reports the exit status and the {@code hs_err} file, so it cannot pass unseen.
 */
class TokenizerJsonFuzzTest {
    private static final String[] TEXTS = {"a red bicycle", "", "<|im_start|>user\nwhat is this?<|im_end|>", "ÄÖü 漢字 🙂 \t\n"};

    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void tokenizerJson(byte[] data) {
        Path file = FuzzFiles.write("tokenizer.json", data);
        LatteTokenizer tok;
        try {
            tok = LatteTokenizer.load(file);
        } catch (IOException e) {
            FuzzFiles.requireMessage(e);
            return;
        }
        try (tok) {
            for (String text : TEXTS) {
                int[] ids = tok.encode(text);
                tok.decode(ids);
            }
            tok.decode(new int[] {tok.imStart(), tok.imagePad(), tok.padId(), 0, tok.vocabSize() - 1});
            if (tok.vocabSize() > 0) tok.idOf("[UNK]");
        }
    }
}
