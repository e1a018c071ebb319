package io.latteflow.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.arrow.ArrowScorer;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.latteflow.examples.LatteCliTest.latte;
import static org.junit.jupiter.api.Assertions.*;

/** {@code latte score} and {@code latte bench-score} in-process on the tiny preset. */
class ScoreCommandTest {
    @TempDir
    Path dir;

    static Path promptStream(Path file, String column, int rows) throws Exception {
        Schema schema = new Schema(List.of(Field.nullable(column, ArrowType.Utf8.INSTANCE)));
        try (BufferAllocator a = new RootAllocator(); VectorSchemaRoot root = VectorSchemaRoot.create(schema, a);
             OutputStream out = Files.newOutputStream(file); ArrowStreamWriter w = new ArrowStreamWriter(root, null, out)) {
            w.start();
            root.allocateNew();
            for (int i = 0; i < rows; i++) ((VarCharVector) root.getVector(0)).setSafe(i, ("apple " + i).getBytes(StandardCharsets.UTF_8));
            root.setRowCount(rows);
            w.writeBatch();
            w.end();
        }
        return file;
    }

    static long rows(Path file) throws Exception {
        try (BufferAllocator a = new RootAllocator(); ArrowFileReader r = new ArrowFileReader(Files.newByteChannel(file), a)) {
            long n = 0;
            while (r.loadNextBatch()) n += r.getVectorSchemaRoot().getRowCount();
            return n;
        }
    }

    @Test
    void scoresAStreamIntoAFileAndResumesACompleteRunWithoutRescoring() throws Exception {
        Path in = promptStream(dir.resolve("p.arrows"), "prompt", 5), out = dir.resolve("o.arrow");
        LatteCliTest.Run r = latte("score", "--preset", "tiny", "--in", in.toString(), "--out", out.toString(), "--batch", "2");
        assertEquals(0, r.exit(), r.err());
        assertEquals(out.toString(), r.out().trim());
        assertTrue(r.err().contains("Scored 5 rows (0 with errors)"), r.err());
        assertEquals(5, rows(out));
        r = latte("score", "--preset", "tiny", "--in", in.toString(), "--out", out.toString(), "--batch", "2", "--resume");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("already complete (5 rows)"), r.err());
        assertFalse(Files.exists(ArrowScorer.partFile(out)));
    }

    @Test
    void aWrongSchemaIsOneLineAndExitCode2() throws Exception {
        Path in = promptStream(dir.resolve("c.arrows"), "caption", 2), out = dir.resolve("o.arrow");
        LatteCliTest.Run r = latte("score", "--preset", "tiny", "--in", in.toString(), "--out", out.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("Input has no column 'prompt' (utf8); expected schema for generate mode"), r.err());
        assertFalse(Files.exists(out));
        r = latte("score", "--preset", "tiny", "--in", in.toString(), "--out", out.toString(), "--mode", "vqa", "--tensor", "latents");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--tensor needs --mode generate"), r.err());
    }

    @Test
    void benchScorePrintsItsFiguresAsTheLastJsonLine() throws Exception {
        LatteCliTest.Run r = latte("bench-score", "--preset", "tiny", "--rows", "16");
        assertEquals(0, r.exit(), r.err());
        String[] lines = r.out().trim().split("\n");
        JsonNode json = new ObjectMapper().readTree(lines[lines.length - 1]);
        for (String key : List.of("rows_per_s_batch1", "rows_per_s_batch16", "batch_ratio", "peak_mb_1x", "peak_mb_10x")) {
            assertTrue(json.path(key).asDouble() > 0, key + " in " + json);
        }
        // Issue 19: the resident size, what an operator provisions for, is reported beside the scorer's own memory.
        if (Files.isReadable(Path.of("/proc/self/status"))) {
            assertTrue(json.path("resident_peak_mb").asDouble() > json.path("peak_mb_10x").asDouble(), "resident_peak_mb in " + json);
        }
    }
}
