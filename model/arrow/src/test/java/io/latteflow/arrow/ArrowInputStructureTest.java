package io.latteflow.arrow;

import static io.latteflow.arrow.ArrowTables.hfImage;
import static io.latteflow.arrow.ArrowTables.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowDictionaryBatch;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The structure of an Arrow input, checked before Arrow follows it (issue 19, both found by fuzzing). A record batch
 * whose columns hold another number of values than the batch has rows, or a struct whose field holds another number
 * than the struct, is refused naming the column and both lengths, before Arrow's {@code setRowCount} grows a column
 * to the batch's length: growing a struct's field whose validity buffer was larger than its offsets implied threw
 * {@code IndexOutOfBoundsException} inside Arrow after allocating 32 bytes that nothing released, so the input's
 * allocator could not close. A schema nested deeper than Arrow C++ reads is refused before Arrow Java follows it
 * without a limit (a field listed inside itself overflowed the stack).
 */
class ArrowInputStructureTest {
    private static final Schema VQA = new Schema(List.<Field>of(hfImage("image"), utf8("question")));

    @TempDir
    Path dir;

    @Test
    void aStructFieldShorterThanItsStructIsRefusedNamingBothLengthsAndNoMemoryIsLeft() throws IOException {
        Path in = dir.resolve("short-field.arrows");
        writeVqaBatch(in, 2, 2, 1);
        String message = refusal(in);
        assertTrue(message.contains("is damaged at record batch 1"), message);
        assertTrue(message.contains("column 'image': its field 'bytes' holds 1 value, but the struct holds 2"), message);
    }

    @Test
    void columnsShorterThanTheirRecordBatchAreRefusedNamingTheColumnAndNoMemoryIsLeft() throws IOException {
        Path in = dir.resolve("short-columns.arrows");
        writeVqaBatch(in, 512, 2, 2);                  // the fuzzer's input: 512 rows, every column 2 values
        String message = refusal(in);
        assertTrue(message.contains("column 'image' holds 2 values, but its record batch has 512 rows"), message);
    }

    @Test
    void aColumnLongerThanItsRecordBatchIsRefusedToo() throws IOException {
        Path in = dir.resolve("long-column.arrows");
        writeVqaBatch(in, 1, 2, 2);
        String message = refusal(in);
        assertTrue(message.contains("column 'image' holds 2 values, but its record batch has 1 row"), message);
    }

    @Test
    void consistentLengthsStillRead() throws IOException {
        Path in = dir.resolve("good.arrows");
        writeVqaBatch(in, 2, 2, 2);
        try (BufferAllocator root = new RootAllocator(64L << 20)) {
            try (InputTable table = InputTable.open(in, root)) {
                assertTrue(table.next(0));
                assertEquals(2, table.root().getRowCount());
                assertEquals("q1", table.root().getVector("question").getObject(1).toString());
            }
            assertEquals(0, root.getAllocatedMemory());
        }
    }

    @Test
    void aSchemaNestedDeeperThanArrowCppReadsIsRefusedAndOneJustWithinIsRead() throws IOException {
        Path deep = dir.resolve("deep.arrows"), within = dir.resolve("within.arrows");
        writeSchemaOnly(deep, nested(IpcLayout.MAX_NESTING + 1));
        writeSchemaOnly(within, nested(IpcLayout.MAX_NESTING));
        String message = refusal(deep);
        assertTrue(message.contains("is damaged (truncated?): its schema nests its columns more than 64 deep"), message);
        try (BufferAllocator root = new RootAllocator(64L << 20); InputTable table = InputTable.open(within, root)) {
            assertEquals(1, table.schema().getFields().size());
            assertFalse(table.next(0));
        }
    }

    @Test
    void aStringColumnWhoseFirstOffsetIsNegativeIsRefusedBeforeArrowCopiesTheValueOut() throws IOException {
        Path in = dir.resolve("negative-offset.arrows");
        try (BufferAllocator a = new RootAllocator();
             FileChannel ch = FileChannel.open(in, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            WriteChannel out = new WriteChannel(ch);
            MessageSerializer.serialize(out, new Schema(List.of(utf8("prompt"))));
            ArrowBuf validity = validity(a, 1), offsets = a.buffer(8), data = a.buffer(8);
            offsets.setInt(0, -200_000_000);                 // Arrow's validation checks the offsets after the first
            offsets.setInt(4, 0);
            offsets.writerIndex(8);
            data.setZero(0, 8);
            data.writerIndex(8);
            try (ArrowRecordBatch batch = new ArrowRecordBatch(1, List.of(new ArrowFieldNode(1, 0)), List.of(validity, offsets, data))) {
                MessageSerializer.serialize(out, batch);
            }
            List.of(validity, offsets, data).forEach(ArrowBuf::close);
            ArrowStreamWriter.writeEndOfStream(out, IpcOption.DEFAULT);
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
        String message = refusal(in);
        long allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
        assertTrue(message.contains("column 'prompt': its first value starts at offset -200000000"), message);
        assertTrue(allocated < 64L << 20, "allocated " + allocated + " bytes of heap for a file of " + Files.size(in));
    }

    @Test
    void aDictionaryBatchWhoseIdTheSchemaLacksIsRefusedAndReleased() throws IOException {
        Path in = dir.resolve("stray-dictionary.arrows");
        try (BufferAllocator a = new RootAllocator();
             FileChannel ch = FileChannel.open(in, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            WriteChannel out = new WriteChannel(ch);
            MessageSerializer.serialize(out, new Schema(List.of(utf8("prompt"))));
            ArrowBuf validity = validity(a, 1), offsets = a.buffer(8), data = a.buffer(8);
            offsets.setInt(0, 0);
            offsets.setInt(4, 1);
            offsets.writerIndex(8);
            data.setZero(0, 8);
            data.writerIndex(8);
            try (ArrowRecordBatch values = new ArrowRecordBatch(1, List.of(new ArrowFieldNode(1, 0)), List.of(validity, offsets, data));
                 ArrowDictionaryBatch dictionary = new ArrowDictionaryBatch(5, values)) {
                MessageSerializer.serialize(out, dictionary);
            }
            List.of(validity, offsets, data).forEach(ArrowBuf::close);
            ArrowStreamWriter.writeEndOfStream(out, IpcOption.DEFAULT);
        }
        String message = refusal(in);                        // Arrow's own reader keeps the batch's 32 bytes
        assertTrue(message.contains("dictionary 5 is not defined in the schema"), message);
    }

    /** A struct column {@code depth} levels deep, its innermost field a string. */
    private static Schema nested(int depth) {
        Field f = utf8("leaf");
        for (int i = 1; i < depth; i++) f = new Field("s" + i, FieldType.nullable(ArrowType.Struct.INSTANCE), List.of(f));
        return new Schema(List.of(f));
    }

    private static void writeSchemaOnly(Path file, Schema schema) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            WriteChannel out = new WriteChannel(ch);
            MessageSerializer.serialize(out, schema);
            ArrowStreamWriter.writeEndOfStream(out, IpcOption.DEFAULT);
        }
    }

    /** Reads {@code in} to its end as the scorer does; returns the refusal's message, checking no memory is held after. */
    private static String refusal(Path in) {
        BufferAllocator root = new RootAllocator(64L << 20);
        ArrowInputException e = assertThrows(ArrowInputException.class, () -> {
            try (InputTable table = InputTable.open(in, root)) {
                long row = 0;
                while (table.next(row)) row += table.root().getRowCount();
            }
        });
        assertEquals(0, root.getAllocatedMemory(), "bytes of Arrow memory still held after a refused batch: " + e.getMessage());
        root.close();
        return e.getMessage();
    }

    /**
     * A stream of one record batch of {@code rows} rows: {@code image} (struct of {@code bytes} and {@code path}) and
     * {@code question} hold {@code columnValues} values each, the struct's {@code bytes} field {@code bytesValues}.
     * Every validity buffer holds 64 bytes, more than the values need (as the fuzzer's input had), so that growing a
     * field to more values than its offsets hold makes Arrow copy a buffer into a smaller one.
     */
    private static void writeVqaBatch(Path file, int rows, int columnValues, int bytesValues) throws IOException {
        try (BufferAllocator a = new RootAllocator();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            WriteChannel out = new WriteChannel(ch);
            MessageSerializer.serialize(out, VQA);
            List<ArrowBuf> buffers = new ArrayList<>();
            List<ArrowFieldNode> nodes = new ArrayList<>();
            nodes.add(new ArrowFieldNode(columnValues, 0));                    // image
            buffers.add(validity(a, columnValues));
            for (int values : new int[] {bytesValues, columnValues, columnValues}) {   // image.bytes, image.path, question
                nodes.add(new ArrowFieldNode(values, 0));
                buffers.add(validity(a, values));
                ArrowBuf offsets = a.buffer(4L * (values + 1)), data = a.buffer(Math.max(8, 2L * values));
                for (int i = 0; i <= values; i++) offsets.setInt(4L * i, 2 * i);
                for (int i = 0; i < values; i++) {
                    data.setByte(2L * i, 'q');
                    data.setByte(2L * i + 1, '0' + i % 10);
                }
                offsets.writerIndex(4L * (values + 1));
                data.writerIndex(2L * values);
                buffers.add(offsets);
                buffers.add(data);
            }
            try (ArrowRecordBatch batch = new ArrowRecordBatch(rows, nodes, buffers)) {
                MessageSerializer.serialize(out, batch);
            }
            buffers.forEach(ArrowBuf::close);
            ArrowStreamWriter.writeEndOfStream(out, IpcOption.DEFAULT);
        }
    }

    private static ArrowBuf validity(BufferAllocator a, int values) {
        ArrowBuf b = a.buffer(64);
        b.setZero(0, 64);
        for (int i = 0; i < values; i++) b.setByte(i / 8, b.getByte(i / 8) | 1 << (i % 8));
        b.writerIndex(64);
        return b;
    }
}
