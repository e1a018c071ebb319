package io.latteflow.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.latteflow.examples.LatteCliTest.latte;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code latte demo} end to end: a real embedded Flink job, FileSink output, contact sheet. */
class DemoCommandITCase {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void theDemoJobDrawsEveryPromptAnswersAboutEachImageAndWritesAContactSheet() throws Exception {
        Path prompts = dir.resolve("prompts.txt");
        Files.write(prompts, List.of("# the demo's prompts", "red apple", "", "smiling face", "cat"));
        Path out = dir.resolve("out");
        LatteCliTest.Run r = latte("demo", "--preset", "tiny", "--prompts", prompts.toString(), "--question", "what is this?",
                "--question", "is this a flag?", "--batch", "2", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode summary = JSON.readTree(r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals(3, summary.get("images").asInt(), r.out());
        assertEquals(6, summary.get("answers").asInt(), "two questions about each image, the second a session follow-up");
        assertEquals(0, summary.get("dead_letters").asInt());
        for (String id : List.of("img-0000", "img-0001", "img-0002")) {
            BufferedImage img = ImageIO.read(out.resolve("images/" + id + ".png").toFile());
            assertEquals(8, img.getWidth(), id);
        }
        String page = Files.readString(out.resolve("index.html"));
        assertTrue(page.contains("smiling face") && page.contains("images/img-0001.png") && page.contains("is this a flag?"), page);

        LatteCliTest.Run again = latte("demo", "--preset", "tiny", "--count", "1", "--out", out.toString());
        assertEquals(2, again.exit(), "an earlier demo's output is not overwritten silently");
        assertTrue(again.err().contains("already holds a demo's output; pass --force"), again.err());
    }

    @Test
    void theDefaultDemoDrawsAndAnswersQuestionsWithTheShippedEmojiModel() throws Exception {
        Path out = dir.resolve("default");
        LatteCliTest.Run r = latte("demo", "--count", "3", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode summary = JSON.readTree(r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals(3, summary.get("images").asInt(), r.out());
        assertEquals(6, summary.get("answers").asInt(), "the shipped emoji model answers both default questions about each image: " + r.out());
        assertEquals(0, summary.get("dead_letters").asInt(), r.out());
        assertTrue(Files.isRegularFile(out.resolve("images/img-0002.png")));
    }

    @Test
    void badDemoOptionsGiveOneLineErrors() {
        LatteCliTest.Run noModel = latte("demo", "--model", dir.resolve("missing").toString(), "--out", dir.resolve("o1").toString());
        assertEquals(2, noModel.exit());
        assertTrue(noModel.err().contains("No model at"), noModel.err());
        LatteCliTest.Run zero = latte("demo", "--preset", "tiny", "--count", "0", "--out", dir.resolve("o2").toString());
        assertEquals(2, zero.exit());
        assertTrue(zero.err().contains("--count must be >= 1"), zero.err());
        LatteCliTest.Run noFile = latte("demo", "--preset", "tiny", "--prompts", dir.resolve("none.txt").toString(), "--out", dir.resolve("o3").toString());
        assertEquals(2, noFile.exit());
        assertTrue(noFile.err().contains("is not a file"), noFile.err());
    }

    /** Issue 19: --force deleted the whole folder, with a user's own files kept beside an earlier demo's output. */
    @Test
    void forceReplacesOnlyWhatTheEarlierDemoWroteAndKeepsTheUsersFiles() throws Exception {
        Path out = dir.resolve("shared");
        LatteCliTest.Run first = latte("demo", "--preset", "tiny", "--count", "2", "--out", out.toString());
        assertEquals(0, first.exit(), first.err());
        Path thesis = out.resolve("mythesis/chapter1.tex"), notes = out.resolve("notes.txt"), photo = out.resolve("images/holiday.png");
        Files.createDirectories(thesis.getParent());
        Files.writeString(thesis, "\\chapter{One}");
        Files.writeString(notes, "mine");
        Files.writeString(photo, "mine");

        LatteCliTest.Run again = latte("demo", "--preset", "tiny", "--count", "1", "--out", out.toString(), "--force");
        assertEquals(0, again.exit(), again.err());
        assertEquals("\\chapter{One}", Files.readString(thesis));
        assertEquals("mine", Files.readString(notes));
        assertEquals("mine", Files.readString(photo));
        assertTrue(Files.isRegularFile(out.resolve("images/img-0000.png")));
        assertFalse(Files.exists(out.resolve("images/img-0001.png")), "the earlier run's second image went with --force");
        assertTrue(Files.readString(out.resolve(".latte-demo")).contains("images/img-0000.png"));
    }

    /** Issue 19: every run left Flink's RPC jar (24 MB) and a minicluster_* folder in the temp folder. */
    @Test
    void theDemoLeavesNothingOfFlinksInTheTempFolder() throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path log = dir.resolve("demo.log");
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if ((a.startsWith("-D") && !a.startsWith("-Djava.io.tmpdir")) || a.startsWith("--add-opens") || a.startsWith("-Xmx")) cmd.add(a);
        }
        cmd.addAll(List.of("-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), LatteCli.class.getName(),
                "demo", "--preset", "tiny", "--count", "1", "--out", dir.resolve("out").toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(5, java.util.concurrent.TimeUnit.MINUTES), "the demo finished");
        assertEquals(0, p.exitValue(), Files.readString(log));
        try (var left = Files.list(tmp)) {
            List<String> names = left.map(f -> f.getFileName().toString()).toList();
            assertEquals(List.of(), names, "left in the temp folder");
        }
    }
}
