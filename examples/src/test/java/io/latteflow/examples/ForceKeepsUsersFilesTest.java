package io.latteflow.examples;

import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.latteflow.examples.LatteCliTest.HF_TIED;
import static io.latteflow.examples.LatteCliTest.latte;
import static io.latteflow.examples.LatteCliTest.png;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 19: {@code --force} removes only what our own commands wrote in {@code --out}, never a user's file, and never
 * follows a link out of the folder. {@code train --force} and {@code init-couple --force} deleted the whole folder
 * ({@code latte demo --force} is {@code DemoCommandITCase} and {@code OutputFolderTest}).
 */
class ForceKeepsUsersFilesTest {
    @TempDir
    Path dir;

    /** The user's own files beside an earlier run's output, and a link out of the folder. */
    private List<Path> usersFiles(Path out) throws Exception {
        Path notes = Files.writeString(out.resolve("notes.txt"), "mine");
        Path thesis = out.resolve("mythesis/chapter1.tex");
        Files.createDirectories(thesis.getParent());
        Files.writeString(thesis, "\\chapter{One}");
        Path outside = Files.writeString(dir.resolve("outside.txt"), "not the run's");
        Path link = Files.createSymbolicLink(out.resolve("elsewhere.txt"), outside);
        return List.of(notes, thesis, outside, link);
    }

    private static void assertKept(List<Path> files) throws Exception {
        assertEquals("mine", Files.readString(files.get(0)));
        assertEquals("\\chapter{One}", Files.readString(files.get(1)));
        assertEquals("not the run's", Files.readString(files.get(2)));
        assertTrue(Files.isSymbolicLink(files.get(3)), "the user's link stays");
    }

    private static String[] with(String[] args, String... more) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(more));
        return all.toArray(new String[0]);
    }

    @Test
    void trainForceReplacesAnEarlierRunAndKeepsTheUsersFiles() throws Exception {
        Path images = dir.resolve("images");
        png(images.resolve("red_apple.png"), 12, Color.RED);
        png(images.resolve("blue_car.png"), 12, Color.BLUE);
        Path out = dir.resolve("run");
        String[] train = {"train", "--preset", "tiny", "--images", images.toString(), "--out", out.toString(), "--steps", "2",
                "--batch", "2", "--checkpoint-every", "1"};
        LatteCliTest.Run first = latte(train);
        assertEquals(0, first.exit(), first.err());
        List<Path> mine = usersFiles(out);

        LatteCliTest.Run refused = latte(train);
        assertEquals(2, refused.exit(), refused.err());
        assertTrue(refused.err().contains("pass --force"), refused.err());

        LatteCliTest.Run forced = latte(with(train, "--force"));
        assertEquals(0, forced.exit(), forced.err());
        assertKept(mine);
        assertEquals(2, Files.readAllLines(out.resolve("metrics.jsonl"), StandardCharsets.UTF_8).size(), "a new run, not the old one's lines too");
        assertTrue(Files.readString(out.resolve("train.json")).contains("\"command\" : \"latte train --preset tiny --images "),
                "train.json says how the model was made, as it was typed: " + Files.readString(out.resolve("train.json")));
        assertFalse(Files.exists(out.resolve("checkpoint"), LinkOption.NOFOLLOW_LINKS), "a finished run keeps no checkpoint");
        try (LatteFlow flow = LatteFlow.load(out)) {
            assertEquals(LatteConfig.tiny(), flow.config());
        }
    }

    @Test
    void trainForceRefusesAUsersFileWhereTheRunWritesBeforeAnyWork() throws Exception {
        Path images = dir.resolve("images");
        png(images.resolve("red_apple.png"), 12, Color.RED);
        Path out = Files.createDirectories(dir.resolve("mine"));
        Path config = Files.writeString(out.resolve("config.json"), "{\"my\": \"settings\"}");
        LatteCliTest.Run r = latte("train", "--preset", "tiny", "--images", images.toString(), "--out", out.toString(), "--steps", "1",
                "--batch", "1", "--force");
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("already holds 'config.json', which 'latte train' did not write"), r.err());
        assertEquals("{\"my\": \"settings\"}", Files.readString(config));
        try (var s = Files.list(out)) {
            assertEquals(List.of(config), s.toList(), "nothing written");
        }
    }

    @Test
    void trainRefusesAnOutItCannotWriteBeforeAnyWork() throws Exception {
        Path images = dir.resolve("images");
        png(images.resolve("red_apple.png"), 12, Color.RED);
        Path proc = Path.of("/proc/self/latte-run");                 // no folder can be made there, even by root
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(proc.getParent()), "needs Linux's /proc");
        LatteCliTest.Run r = latte("train", "--preset", "tiny", "--images", images.toString(), "--out", proc.toString(), "--steps", "1");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--out '" + proc + "' cannot be written"), r.err());
    }

    @Test
    void initCoupleForceReplacesAnEarlierModelAndKeepsTheUsersFiles() throws Exception {
        Path out = dir.resolve("couple");
        String[] init = {"init-couple", "--vlm", HF_TIED.toString(), "--out", out.toString(), "--gen-image-size", "16",
                "--latent-patch", "4", "--dtype", "F32"};
        LatteCliTest.Run first = latte(with(init, "--groups", "2"));
        assertEquals(0, first.exit(), first.err());
        List<Path> mine = usersFiles(out);
        assertEquals(2, latte(with(init, "--groups", "2")).exit(), "without --force a folder with files is refused");

        LatteCliTest.Run forced = latte(with(init, "--force", "--groups", "1"));
        assertEquals(0, forced.exit(), forced.err());
        assertKept(mine);
        assertTrue(Files.isRegularFile(out.resolve("chat_template.json")), "the chat files are copied again");
        try (LatteFlow flow = LatteFlow.load(out)) {
            assertEquals(1, flow.config().groups(), "the new model, not the old one");
            assertEquals(16, flow.generate(GenerationRequest.of("a red square").withSteps(1)).image().getWidth());
        }
    }

    @Test
    void initCoupleForceRefusesAUsersFileWhereTheModelGoesBeforeReadingWeights() throws Exception {
        Path out = Files.createDirectories(dir.resolve("mine"));
        Path weights = Files.writeString(out.resolve("model.safetensors"), "my own weights");
        LatteCliTest.Run r = latte("init-couple", "--vlm", HF_TIED.toString(), "--out", out.toString(), "--groups", "2", "--force");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("already holds 'model.safetensors', which 'latte init-couple' did not write"), r.err());
        assertFalse(r.err().contains("Reading"), "refused before the weights were read: " + r.err());
        assertEquals("my own weights", Files.readString(weights));
    }
}
