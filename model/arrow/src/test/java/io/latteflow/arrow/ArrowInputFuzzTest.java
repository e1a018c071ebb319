package io.latteflow.arrow;

import static io.latteflow.arrow.ArrowTables.float32;
import static io.latteflow.arrow.ArrowTables.hfImage;
import static io.latteflow.arrow.ArrowTables.int32;
import static io.latteflow.arrow.ArrowTables.int64;
import static io.latteflow.arrow.ArrowTables.utf8;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.latteflow.model.Images;
import io.latteflow.model.RequestLimits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of the Arrow IPC input of {@code latte score} (issue 19): the size checks ({@link IpcLayout}), Arrow's
 * readers behind them ({@link InputTable}), the schema check and every row turned into a request ({@link RowReader},
 * images decoded and resized as the scorer does), with no model. Any bytes either read, row by row, or fail with an
 * {@link ArrowInputException} naming the file; any other exception, a hang, an out-of-memory, or Arrow memory still
 * held after the input is closed is a finding.
 */
class ArrowInputFuzzTest {
    private static final Path FILE = scratch();

    private static Path scratch() {
        try {
            Path shm = Path.of("/dev/shm");
            Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "latte-fuzz-arrow-")
                    : Files.createTempDirectory("latte-fuzz-arrow-");
            Path file = dir.resolve("input.arrow");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                file.toFile().delete();
                dir.toFile().delete();
            }));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void arrowInput(byte[] data) throws IOException {
        Files.write(FILE, data);
        // One root allocator per input, as ArrowScorer has per run; memory still held when it closes is a finding.
        BufferAllocator root = new RootAllocator(512L << 20);
        try (InputTable in = InputTable.open(FILE, root)) {
            in.countRows();
            Schema schema = in.schema();
            ScoreMode mode = schema.getFields().stream().anyMatch(f -> "image".equals(f.getName())) ? ScoreMode.ANSWER : ScoreMode.GENERATE;
            RowReader reader = RowReader.forMode(mode, schema, img -> Images.resize(img, 16),
                    RequestLimits.DEFAULTS.maxImagePixels(), RequestLimits.DEFAULTS.maxNewTokens());
            reader.bind(in.root());
            long row = 0;
            while (in.next(row)) {
                for (int i = 0; i < in.root().getRowCount(); i++, row++) {
                    RowReader.Row r = reader.read(i, row);
                    if ((r.request() == null) == (r.error() == null)) throw new AssertionError("row " + row + ": " + r);
                }
            }
        } catch (ArrowInputException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("no message", e);
        }
        long held = root.getAllocatedMemory();
        if (held != 0) throw new AssertionError(held + " bytes of Arrow memory still held after the input was closed");
        root.close();
    }

    /**
     * Writes the seed inputs (run once: {@code -Dtest=ArrowInputFuzzTest#writeSeeds -Dlatte.fuzz.seeds=DIR}): a
     * generate table and a VQA table, each in the file and the stream format, two record batches each.
     */
    @Test
    void writeSeeds() throws IOException {
        String to = System.getProperty("latte.fuzz.seeds");
        Assumptions.assumeTrue(to != null, "only when writing seeds");
        Path dir = Files.createDirectories(Path.of(to));
        Schema generate = new Schema(List.of(utf8("prompt"), int64("seed"), int32("steps"), float32("guidance")));
        Schema vqa = new Schema(List.<Field>of(hfImage("image"), utf8("question")));
        byte[] png = Files.readAllBytes(Path.of(System.getProperty("latte.fuzz.png")));
        for (boolean stream : new boolean[] {false, true}) {
            String ext = stream ? ".arrows" : ".arrow";
            ArrowTables.write(dir.resolve("generate" + ext), stream, generate, 3, 2, row -> {
                Map<String, Object> m = new HashMap<>();
                m.put("prompt", row == 1 ? null : "red apple " + row);
                m.put("seed", row == 2 ? null : (Object) (long) row);
                m.put("steps", 8);
                m.put("guidance", 3.0f);
                return m;
            });
            ArrowTables.write(dir.resolve("vqa" + ext), stream, vqa, 3, 2, row -> {
                Map<String, Object> m = new HashMap<>();
                m.put("image", row == 1 ? null : png);
                m.put("question", "what is this?");
                return m;
            });
        }
    }
}
