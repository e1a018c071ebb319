package io.latteflow.examples;

import io.latteflow.arrow.ArrowScorer;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.latteflow.examples.LatteCliTest.latte;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 19's fault: {@code latte score} killed with SIGKILL in a separate JVM part-way through a table, then run again
 * with {@code --resume}, writes every row exactly once, each image the one an unbroken run draws.
 */
class ScoreResumeAfterKillITCase {
    private static final int ROWS = 240;

    @Test
    void scoringKilledWithSigkillAndResumedMatchesAnUnbrokenRun(@TempDir Path dir) throws Exception {
        Path in = ScoreCommandTest.promptStream(dir.resolve("prompts.arrows"), "prompt", ROWS);
        List<String> common = List.of("score", "--preset", "tiny", "--in", in.toString(), "--batch", "2");

        Path straight = dir.resolve("straight.arrow");
        LatteCliTest.Run unbroken = latte(args(common, "--out", straight.toString()));
        assertEquals(0, unbroken.exit(), unbroken.err());

        Path killed = dir.resolve("killed.arrow"), part = ArrowScorer.partFile(killed);
        Process p = TrainResumeAfterKillITCase.javaProcess(args(common, "--out", killed.toString()), dir.resolve("child.log"));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        Path progress = killed.resolveSibling(killed.getFileName() + ".progress");
        while (rowsDone(progress) < ROWS / 6 && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(10);
        assertTrue(p.isAlive(), "the child ended before it could be killed: " + Files.readString(dir.resolve("child.log")));
        p.destroyForcibly();                                                      // SIGKILL: no shutdown hooks run
        p.waitFor(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(killed), "the output appears only when the run is complete");
        assertTrue(ArrowScorer.canResume(killed), "the finished batches survived the kill");

        LatteCliTest.Run resumed = latte(args(common, "--out", killed.toString(), "--resume"));
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.err().contains("rows kept from the interrupted run"), resumed.err());
        assertFalse(Files.exists(part));

        List<Map<String, Object>> a = rows(straight), b = rows(killed);
        assertEquals(ROWS, a.size());
        assertEquals(ROWS, b.size(), "every row exactly once");
        for (int i = 0; i < ROWS; i++) {
            assertEquals(a.get(i).get("prompt"), b.get(i).get("prompt"), "row " + i);
            assertNull(b.get(i).get("error"), "row " + i);
            assertArrayEquals(imageBytes(a.get(i)), imageBytes(b.get(i)), "row " + i + ": the image an unbroken run draws");
        }
    }

    /** The rows the progress file records as finished (it is replaced atomically), 0 before there is one. */
    private static long rowsDone(Path progress) {
        try {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"rows\"\\s*:\\s*(\\d+)").matcher(Files.readString(progress));
            return m.find() ? Long.parseLong(m.group(1)) : 0;
        } catch (java.io.IOException notYet) {
            return 0;
        }
    }

    private static byte[] imageBytes(Map<String, Object> row) {
        return (byte[]) ((Map<?, ?>) row.get("image")).get("bytes");
    }

    private static List<Map<String, Object>> rows(Path file) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        try (BufferAllocator a = new RootAllocator(); ArrowFileReader r = new ArrowFileReader(Files.newByteChannel(file), a)) {
            while (r.loadNextBatch()) {
                VectorSchemaRoot root = r.getVectorSchemaRoot();
                for (int i = 0; i < root.getRowCount(); i++) {
                    Map<String, Object> row = new java.util.HashMap<>();
                    for (FieldVector v : root.getFieldVectors()) {
                        Object value = v.getObject(i);
                        row.put(v.getName(), value instanceof org.apache.arrow.vector.util.Text t ? t.toString() : value);
                    }
                    out.add(row);
                }
            }
        }
        return out;
    }

    private static String[] args(List<String> common, String... more) {
        List<String> all = new ArrayList<>(common);
        all.addAll(List.of(more));
        return all.toArray(new String[0]);
    }
}
