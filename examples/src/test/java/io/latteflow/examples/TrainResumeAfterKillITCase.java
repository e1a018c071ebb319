package io.latteflow.examples;

import io.latteflow.model.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.latteflow.examples.LatteCliTest.latte;
import static io.latteflow.examples.LatteCliTest.png;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code latte train} killed with SIGKILL in a separate JVM, then resumed, ends exactly like an unbroken run. */
class TrainResumeAfterKillITCase {

    @Test
    void trainingKilledWithSigkillAndResumedMatchesAnUnbrokenRunBitForBit(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("images");
        png(images.resolve("red_apple.png"), 16, Color.RED);
        png(images.resolve("blue_car.png"), 16, Color.BLUE);
        png(images.resolve("green_frog.png"), 16, Color.GREEN);
        List<String> common = List.of("train", "--preset", "tiny", "--images", images.toString(), "--steps", "120",
                "--understanding-steps", "4", "--batch", "2", "--checkpoint-every", "10", "--seed", "3");

        Path killed = dir.resolve("killed");
        assertEquals(0, latte(args(common, "--out", dir.resolve("straight").toString())).exit());
        killAfter(30, args(common, "--out", killed.toString()), dir);
        LatteCliTest.Run resumed = latte(args(common, "--out", killed.toString(), "--resume"));
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.err().contains("Resuming"), resumed.err());
        assertSameWeights(dir.resolve("straight"), killed);
        Path metrics = killed.resolve("metrics.jsonl");
        assertEquals(124, lines(metrics), "one log line per step, the replayed steps logged once");
    }

    /**
     * Issue 20: a 64x64 emoji run resumed without --gen-image-size went on training on the images drawn at the
     * default preset's size and upscaled. A resume prepares the data for the run's own model, whatever the command's
     * defaults, and refuses model options that describe another.
     */
    @Test
    void aResumedEmojiRunDrawsItsImagesAtTheRunsSizeWithoutTheModelOptions(@TempDir Path dir) throws Exception {
        List<String> common = List.of("train", "--data", "emoji", "--steps", "60", "--batch", "2", "--checkpoint-every", "10", "--seed", "3");
        String[] shape = {"--preset", "tiny", "--gen-image-size", "16"};                  // tiny draws 8x8, the default preset 32x32
        assertEquals(0, latte(args(args(common, shape), "--out", dir.resolve("straight").toString())).exit());
        Path killed = dir.resolve("killed");
        killAfter(20, args(args(common, shape), "--out", killed.toString()), dir);

        LatteCliTest.Run other = latte(args(common, "--out", killed.toString(), "--resume", "--gen-image-size", "24"));
        assertEquals(2, other.exit(), other.err());
        assertTrue(other.err().contains("with the model it was started with (16x16 images") && other.err().contains("--gen-image-size"), other.err());
        LatteCliTest.Run resumed = latte(args(common, "--out", killed.toString(), "--resume"));
        assertEquals(0, resumed.exit(), resumed.err());
        assertSameWeights(dir.resolve("straight"), killed);
    }

    /** Starts the CLI in a child JVM and SIGKILLs it once its metrics log has {@code lines} lines; a checkpoint survives. */
    private static void killAfter(int lines, String[] cliArgs, Path dir) throws Exception {
        Path out = Path.of(cliArgs[Arrays.asList(cliArgs).indexOf("--out") + 1]);
        Process p = javaProcess(cliArgs, dir.resolve("child.log"));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (lines(out.resolve("metrics.jsonl")) < lines && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(p.isAlive(), "the child ended before it could be killed: " + Files.readString(dir.resolve("child.log")));
        p.destroyForcibly();                                                      // SIGKILL: no shutdown hooks run
        p.waitFor(30, TimeUnit.SECONDS);
        assertTrue(Files.exists(out.resolve("checkpoint")) || Files.exists(out.resolve("checkpoint.old")), "a checkpoint survived the kill");
    }

    private static void assertSameWeights(Path a, Path b) throws Exception {
        try (SafeTensors x = SafeTensors.open(a.resolve("model.safetensors")); SafeTensors y = SafeTensors.open(b.resolve("model.safetensors"))) {
            assertEquals(x.names(), y.names());
            for (String n : x.names()) {
                assertTrue(Arrays.equals(x.get(n).data().asFloat(), y.get(n).data().asFloat()), "tensor " + n + " differs");
            }
        }
    }

    private static String[] args(String[] common, String... more) {
        return args(List.of(common), more);
    }

    private static String[] args(List<String> common, String... more) {
        List<String> all = new ArrayList<>(common);
        all.addAll(List.of(more));
        return all.toArray(new String[0]);
    }

    /** The CLI in a fresh JVM with this JVM's class path and native settings. */
    static Process javaProcess(String[] cliArgs, Path log) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-D") || a.startsWith("--add-opens") || a.startsWith("-Xmx")) cmd.add(a);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), LatteCli.class.getName()));
        cmd.addAll(List.of(cliArgs));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static long lines(Path file) throws Exception {
        if (!Files.exists(file)) return 0;
        try (var s = Files.lines(file)) {
            return s.count();
        }
    }
}
