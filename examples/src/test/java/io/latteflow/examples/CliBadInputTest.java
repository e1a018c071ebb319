package io.latteflow.examples;

import io.latteflow.model.LatteConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

import static io.latteflow.examples.LatteCliTest.latte;
import static io.latteflow.examples.LatteCliTest.png;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 19's findings on the command line: bad output paths and bad input are refused with one line and exit code 2
 * before any work (the model is not even loaded: no "Using an untrained" line), existing files are not overwritten
 * without {@code --force}, files are written 0644, and {@code --count} draws in batches.
 */
class CliBadInputTest {
    /** What {@code --preset} prints when it opens the model: its absence proves the refusal came first. */
    private static final String MODEL_OPENED = "Using an untrained";

    @TempDir
    Path dir;

    private static void assertRefusedBeforeWork(LatteCliTest.Run r, String... fragments) {
        assertEquals(2, r.exit(), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' not in: " + r.err());
        assertFalse(r.err().contains(MODEL_OPENED), "refused only after opening the model: " + r.err());
        assertFalse(r.err().contains(".tmp"), "names an internal temp file: " + r.err());
    }

    private static LatteCliTest.Run generate(Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--preset", "tiny", "--steps", "1", "--prompt", "red apple",
                "--out", out.toString()));
        args.addAll(List.of(more));
        return latte(args.toArray(new String[0]));
    }

    @Test
    void generateToAFolderOrUnderARegularFileIsRefusedBeforeWorkNamingThePath() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("pictures"));
        assertRefusedBeforeWork(generate(folder), "--out '" + folder + "' is a folder");
        Path regular = Files.writeString(dir.resolve("notes.txt"), "mine");
        Path under = regular.resolve("apple.png");
        assertRefusedBeforeWork(generate(under), "--out '" + under + "' cannot be created: '" + regular + "' is a file, not a folder");
        assertEquals("mine", Files.readString(regular));
    }

    @Test
    void generateIntoAFolderNobodyMayWriteIsRefusedBeforeWork() {
        Path proc = Path.of("/proc/self");                      // not writable even by root
        assumeTrue(Files.isDirectory(proc), "needs Linux's /proc");
        Path out = proc.resolve("apple.png");
        assertRefusedBeforeWork(generate(out), "--out '" + out + "' cannot be written");
    }

    @Test
    void generateIntoAReadOnlyFolderIsRefusedBeforeWork() throws Exception {
        Path readOnly = Files.createDirectories(dir.resolve("read-only"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeTrue(!Files.isWritable(readOnly), "root writes into read-only folders");
            assertRefusedBeforeWork(generate(readOnly.resolve("apple.png")), "permission denied in '" + readOnly + "'");
        } finally {
            Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void generateRefusesToOverwriteWithoutForceAndWritesFilesReadableByAll() throws Exception {
        Path out = dir.resolve("apple.png");
        Files.writeString(out, "my own picture");
        assertRefusedBeforeWork(generate(out), "--out '" + out + "' already exists; pass --force to overwrite it");
        assertEquals("my own picture", Files.readString(out));
        LatteCliTest.Run forced = generate(out, "--force");
        assertEquals(0, forced.exit(), forced.err());
        assertTrue(Files.size(out) > 0 && Files.readAllBytes(out)[1] == 'P', "a PNG replaced it");

        Files.writeString(dir.resolve("many-2.png"), "mine");
        LatteCliTest.Run clash = generate(dir.resolve("many.png"), "--count", "3");
        assertRefusedBeforeWork(clash, "many-2.png' already exists");
        assertFalse(Files.exists(dir.resolve("many-1.png")), "nothing written before the refusal");
    }

    @Test
    void generateWritesFilesWithTheModeOfAnyNewFileNot0600() throws Exception {
        assumeTrue(Files.getFileStore(dir).supportsFileAttributeView("posix"));
        Path out = dir.resolve("apple.png");
        LatteCliTest.Run r = generate(out);
        assertEquals(0, r.exit(), r.err());
        Set<PosixFilePermission> plain = Files.getPosixFilePermissions(Files.writeString(dir.resolve("plain.txt"), "x"));
        assertEquals(PosixFilePermissions.toString(plain), PosixFilePermissions.toString(Files.getPosixFilePermissions(out)),
                "as demo and score write (0644 under the usual umask)");
    }

    @Test
    void aPromptLongerThanTheModelsContextExitsWithTwo() {
        String prompt = "red ".repeat(LatteConfig.tiny().maxContextTokens());
        Path out = dir.resolve("long.png");
        LatteCliTest.Run r = latte("generate", "--preset", "tiny", "--prompt", prompt, "--out", out.toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--prompt: prompt is " + (LatteConfig.tiny().maxContextTokens() + 2) + " tokens long, more than the model's "
                + LatteConfig.tiny().maxContextTokens()), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void generateCountDrawsInBatchesTheImagesOneBatchDrawsWithProgress() throws Exception {
        LatteCliTest.Run batched = generate(dir.resolve("b.png"), "--count", "5", "--batch", "2");
        assertEquals(0, batched.exit(), batched.err());
        assertTrue(batched.err().contains("generate"), "a progress bar: " + batched.err());
        LatteCliTest.Run whole = generate(dir.resolve("w.png"), "--count", "5");
        assertEquals(0, whole.exit(), whole.err());
        for (int i = 1; i <= 5; i++) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("w-" + i + ".png")), Files.readAllBytes(dir.resolve("b-" + i + ".png")), "image " + i);
        }
        assertRefusedBeforeWork(generate(dir.resolve("z.png"), "--count", "3", "--batch", "0"), "--batch must be >= 1");
        assertRefusedBeforeWork(generate(dir.resolve("z.png"), "--count", "100000", "--batch", "100000"),
                "--batch 100000 is more than 1024 images per model call");
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void generateCountIsCappedWithAClearMessage() {
        assertRefusedBeforeWork(generate(dir.resolve("c.png"), "--count", "2000000000"),
                "--count 2000000000 is more than 100000 images; draw them in several runs");
    }

    /** Without the cap the run goes on for days: the timeout turns that into a failure. */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void generateStepsAboveTheCapAreRefusedBeforeWork() {
        assertRefusedBeforeWork(latte("generate", "--preset", "tiny", "--prompt", "red apple", "--steps", "1000000", "--out",
                dir.resolve("s.png").toString()), "--steps: steps 1000000 is outside [1, 1000]");
    }

    @Test
    void askRefusesAnOverLongQuestionBeforeLoadingTheModel() throws Exception {
        Path image = dir.resolve("face.png");
        png(image, 16, Color.YELLOW);
        LatteCliTest.Run r = latte("ask", "--preset", "tiny", "--image", image.toString(), "--question", "why ".repeat(200));
        assertRefusedBeforeWork(r, "--question: question has 800 characters, more than the limit of 500");
    }

    /** Issue 19: the core's 256-token answer limit held everywhere but here; a huge --max-new-tokens decoded on and on. */
    @Test
    void answerLengthsAboveTheCoresLimitAreRefusedBeforeWork() throws Exception {
        Path image = dir.resolve("face.png");
        png(image, 16, Color.YELLOW);
        assertRefusedBeforeWork(latte("ask", "--preset", "tiny", "--image", image.toString(), "--question", "what?", "--max-new-tokens",
                "100000"), "--max-new-tokens must be in [1, 256], got 100000");
        Path in = Files.writeString(dir.resolve("in.arrow"), "not arrow");
        assertRefusedBeforeWork(latte("score", "--preset", "tiny", "--mode", "answer", "--in", in.toString(), "--out",
                dir.resolve("o.arrow").toString(), "--max-tokens", "1000"), "--max-tokens must be in [1, 256], got 1000");
    }

    /** Issue 19's sweep: Jackson's message for a config.json that is not JSON took two lines, one of them meaningless. */
    @Test
    void aModelWhoseConfigIsNotJsonIsOneLineNamingTheFileAndThePlace() throws Exception {
        Path model = Files.createDirectories(dir.resolve("model"));
        Path config = Files.writeString(model.resolve("config.json"), "{ not json");
        LatteCliTest.Run r = latte("generate", "--model", model.toString(), "--prompt", "red apple", "--out", dir.resolve("a.png").toString());
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("Unreadable model config " + config) && r.err().contains("at [line: 1, column: 3]"), r.err());
        assertFalse(r.err().contains("REDACTED"), r.err());
    }

    @Test
    void askOnAMultiGigabyteFileIsOneClearErrorNotAnOutOfMemoryError() throws Exception {
        Path huge = dir.resolve("huge.png");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(3L << 30);                      // sparse; more than one array can hold, so it must not be read whole
        }
        LatteCliTest.Run r = latte("ask", "--preset", "tiny", "--image", huge.toString(), "--question", "what is this?");
        assertRefusedBeforeWork(r, "Image file '" + huge + "'", "not PNG, JPEG, BMP or GIF");
    }

    @Test
    void askRefusesAnUnwritableTimingFileBeforeWork() throws Exception {
        Path image = dir.resolve("face.png");
        png(image, 16, Color.YELLOW);
        Path folder = Files.createDirectories(dir.resolve("timing"));
        assertRefusedBeforeWork(latte("ask", "--preset", "tiny", "--image", image.toString(), "--question", "what?", "--timing",
                folder.toString()), "--timing '" + folder + "' is a folder");
    }

    @Test
    void scoreToAFolderOrUnderARegularFileIsRefusedBeforeWork() throws Exception {
        Path in = Files.writeString(dir.resolve("in.arrow"), "not arrow");
        Path folder = Files.createDirectories(dir.resolve("out"));
        assertRefusedBeforeWork(latte("score", "--preset", "tiny", "--in", in.toString(), "--out", folder.toString()),
                "--out '" + folder + "' is a folder");
        Path under = in.resolve("out.arrow");
        assertRefusedBeforeWork(latte("score", "--preset", "tiny", "--in", in.toString(), "--out", under.toString()),
                "is a file, not a folder");
    }

    @Test
    void demoRefusesABlankQuestionAndAnOutUnderARegularFileBeforeWork() throws Exception {
        assertRefusedBeforeWork(latte("demo", "--preset", "tiny", "--count", "1", "--question", "", "--question", "what is this?",
                "--out", dir.resolve("d1").toString()), "--question: question is empty");
        assertFalse(Files.exists(dir.resolve("d1")));
        Path regular = Files.writeString(dir.resolve("notes.txt"), "mine");
        assertRefusedBeforeWork(latte("demo", "--preset", "tiny", "--count", "1", "--out", regular.resolve("d2").toString()),
                "is a file, not a folder");
    }

    /** Issue 19's sweep: the built-in prompt list was built whole first (2,000,000,000 strings: OutOfMemoryError). */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void demoPromptCountsAboveTheCapAreRefusedBeforeWork() throws Exception {
        assertRefusedBeforeWork(latte("demo", "--preset", "tiny", "--count", "2000000000", "--out", dir.resolve("d").toString()),
                "--count 2000000000 is more than the demo's 10000 prompts");
        Path many = Files.write(dir.resolve("many.txt"), java.util.Collections.nCopies(10_001, "red apple"));
        assertRefusedBeforeWork(latte("demo", "--preset", "tiny", "--prompts", many.toString(), "--out", dir.resolve("d").toString()),
                "holds 10001 prompts, more than the demo's 10000");
        assertFalse(Files.exists(dir.resolve("d")));
    }

    /**
     * The rest of issue 19's command-line sweep (examples/reliability/bad_input_sweep.py, docs/RELIABILITY.md): each
     * bad value is one message naming the option, exit code 2, before the model is opened.
     */
    @Test
    void theSweepsOtherBadOptionsAreNamedWithExitCode2BeforeWork() throws Exception {
        Path images = dir.resolve("images");
        png(images.resolve("red_apple.png"), 16, Color.RED);
        Path face = images.resolve("red_apple.png"), none = Files.createDirectories(dir.resolve("no-run"));
        Path emptyPrompts = Files.writeString(dir.resolve("prompts.txt"), "# nothing but a comment\n");
        Path in = Files.writeString(dir.resolve("in.arrow"), "not arrow");
        String out = dir.resolve("out").toString(), png = dir.resolve("a.png").toString(), arrow = dir.resolve("o.arrow").toString();
        String[][] cases = {
                {"Invalid value for option '--steps': 'abc' is not an int", "generate", "--preset", "tiny", "--prompt", "a", "--out", png, "--steps", "abc"},
                {"Invalid value for option '--seed': 'x' is not a long", "generate", "--preset", "tiny", "--prompt", "a", "--out", png, "--seed", "x"},
                {"'18446744073709551616' is not a long", "generate", "--preset", "tiny", "--prompt", "a", "--out", png, "--seed", "18446744073709551616"},
                {"--prompt: prompt is empty", "generate", "--preset", "tiny", "--prompt", "", "--out", png},
                {"--question: question is empty", "answer", "--preset", "tiny", "--image", face.toString(), "--question", " "},
                {"Invalid value for option '--mode'", "score", "--preset", "tiny", "--in", in.toString(), "--out", arrow, "--mode", "paint"},
                {"--batch must be >= 1, got 0", "score", "--preset", "tiny", "--in", in.toString(), "--out", arrow, "--batch", "0"},
                {"--batch 100000 is more than 1024 rows per model call", "score", "--preset", "tiny", "--in", in.toString(), "--out", arrow, "--batch", "100000"},
                {"holds no prompts", "demo", "--preset", "tiny", "--prompts", emptyPrompts.toString(), "--out", out},
                {"--steps must be >= 0, got -1", "train", "--preset", "tiny", "--images", images.toString(), "--out", out, "--steps", "-1"},
                {"--batch must be >= 1, got 0", "train", "--preset", "tiny", "--images", images.toString(), "--out", out, "--batch", "0"},
                {"--checkpoint-every must be >= 1, got 0", "train", "--preset", "tiny", "--images", images.toString(), "--out", out, "--checkpoint-every", "0"},
                {"--lr must be a finite number > 0, got 0.0", "train", "--preset", "tiny", "--images", images.toString(), "--out", out, "--lr", "0"},
                {"--ema must be in [0, 1), got 1.0", "train", "--preset", "tiny", "--images", images.toString(), "--out", out, "--ema", "1"},
                {"--preset must be tiny, small or bench, got 'huge'", "train", "--preset", "huge", "--images", images.toString(), "--out", out},
                {"Unknown data set 'cats'", "train", "--preset", "tiny", "--data", "cats", "--out", out},
                {"--init starts a new run; --resume continues one", "train", "--init", "models/latte-emoji", "--images", images.toString(), "--out", out, "--resume"},
                {"holds no training run to resume (no run.json)", "train", "--preset", "tiny", "--images", images.toString(), "--out", none.toString(), "--resume"},
        };
        for (String[] c : cases) {
            LatteCliTest.Run r = latte(java.util.Arrays.copyOfRange(c, 1, c.length));
            assertRefusedBeforeWork(r, c[0]);
            assertTrue(r.err().lines().findFirst().orElse("").contains(c[0]), "the first line names it: " + r.err());
        }
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
        assertFalse(Files.exists(dir.resolve("a.png")) || Files.exists(dir.resolve("o.arrow")), "nothing written");
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void benchAndEvalStepsAboveTheCapAreRefused() {
        assertRefusedBeforeWork(latte("bench", "--steps", "1000000"), "steps 1000000 is outside [1, 1000]");
        assertRefusedBeforeWork(latte("bench-stream", "--preset", "tiny", "--steps", "1000000"), "steps 1000000 is outside [1, 1000]");
        assertRefusedBeforeWork(latte("eval", "fashion", "--steps", "1000000"), "steps 1000000 is outside [1, 1000]");
        assertRefusedBeforeWork(latte("eval", "emoji", "--cfg", "-1"), "--cfg: guidance -1.0 is outside [0, 50.0]");
        assertRefusedBeforeWork(latte("export", "--model", "models/latte-emoji", "--out", dir.resolve("out").toString(), "--cfg", "99"),
                "--cfg: guidance 99.0 is outside [0, 50.0]");
    }
}
