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

        Path straight = dir.resolve("straight");
        assertEquals(0, latte(args(common, "--out", straight.toString())).exit());

        Path killed = dir.resolve("killed");
        Process p = javaProcess(args(common, "--out", killed.toString()), dir.resolve("child.log"));
        Path metrics = killed.resolve("metrics.jsonl");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (lines(metrics) < 30 && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(p.isAlive(), "the child ended before it could be killed: " + Files.readString(dir.resolve("child.log")));
        p.destroyForcibly();                                                      // SIGKILL: no shutdown hooks run
        p.waitFor(30, TimeUnit.SECONDS);
        assertTrue(Files.exists(killed.resolve("checkpoint")) || Files.exists(killed.resolve("checkpoint.old")),
                "a checkpoint survived the kill");

        LatteCliTest.Run resumed = latte(args(common, "--out", killed.toString(), "--resume"));
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.err().contains("Resuming"), resumed.err());
        try (SafeTensors a = SafeTensors.open(straight.resolve("model.safetensors"));
             SafeTensors b = SafeTensors.open(killed.resolve("model.safetensors"))) {
            assertEquals(a.names(), b.names());
            for (String n : a.names()) {
                assertTrue(Arrays.equals(a.get(n).data().asFloat(), b.get(n).data().asFloat()), "tensor " + n + " differs");
            }
        }
        assertEquals(124, lines(metrics), "one log line per step, the replayed steps logged once");
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
