package io.latteflow.arrow;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.ArrowFooter;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.latteflow.arrow.ArrowTables.utf8;
import static io.latteflow.arrow.ArrowTables.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sizes an input declares are checked against the file before Arrow allocates for them (issue 19): a 22-byte text
 * file made {@code latte score} allocate about 4 GB before its error, and die under {@code -Xmx1g}.
 */
class ArrowInputSizeTest {
    private static final long MAX_ALLOCATED_BYTES = 64L << 20;
    private static final Schema PROMPTS = new Schema(List.of(utf8("prompt")));
    private static LatteFlow flow;

    @TempDir
    Path dir;

    @BeforeAll
    static void model() {
        flow = LatteFlow.create(LatteConfig.tiny(), 7);
    }

    @AfterAll
    static void close() {
        flow.close();
    }

    /** Heap bytes this thread allocated while {@code action} ran (HotSpot's per-thread counter). */
    private static long allocatedBy(ThrowingRunnable action) throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId(), before = threads.getThreadAllocatedBytes(id);
        action.run();
        return threads.getThreadAllocatedBytes(id) - before;
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void aTwentyTwoByteFileThatIsNotArrowIsRefusedBeforeArrowAllocatesForIt() throws Exception {
        Path text = dir.resolve("notes.arrow"), out = dir.resolve("out.arrow");
        Files.writeString(text, "this is not arrow, ok\n", StandardCharsets.US_ASCII);
        assertEquals(22, Files.size(text));
        ArrowScorer scorer = ArrowScorer.builder(flow).build();
        ArrowInputException[] caught = new ArrowInputException[1];
        long allocated = allocatedBy(() -> caught[0] = assertThrows(ArrowInputException.class, () -> scorer.score(text, out)));
        assertTrue(allocated < MAX_ALLOCATED_BYTES, "allocated " + allocated + " bytes for a 22-byte file");
        String message = caught[0].getMessage();
        assertTrue(message.startsWith("Input '" + text + "' is not an Arrow IPC file or stream"), message);
        assertTrue(message.contains("declares 1936287860 bytes of metadata, but only 18 bytes follow"), message);
        assertFalse(Files.exists(out));
    }

    @Test
    void aFileFooterListingABlockBeyondTheFileIsRefusedNamingIt() throws Exception {
        Path in = dir.resolve("in.arrow"), out = dir.resolve("out.arrow");
        write(in, false, PROMPTS, 4, 2, i -> Map.of("prompt", "red apple"));
        Schema schema;
        List<ArrowBlock> blocks;
        try (BufferAllocator a = new RootAllocator(); ArrowFileReader r = new ArrowFileReader(Files.newByteChannel(in), a)) {
            schema = r.getVectorSchemaRoot().getSchema();
            blocks = new ArrayList<>(r.getRecordBlocks());
        }
        ArrowBlock first = blocks.get(0);
        blocks.set(0, new ArrowBlock(first.getOffset(), first.getMetadataLength(), 1L << 40));
        byte[] bytes = Files.readAllBytes(in);
        int footerLength = ByteBuffer.wrap(bytes, bytes.length - 10, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        try (FileChannel ch = FileChannel.open(in, StandardOpenOption.WRITE)) {
            ch.truncate(bytes.length - 10 - footerLength);
            ch.position(ch.size());
            WriteChannel w = new WriteChannel(ch);
            long written = w.write(new ArrowFooter(schema, List.of(), blocks), false);
            w.writeIntLittleEndian((int) written);
            w.write("ARROW1".getBytes(StandardCharsets.US_ASCII));
        }
        long allocated = allocatedBy(() -> {
            ArrowInputException e = assertThrows(ArrowInputException.class, () -> ArrowScorer.builder(flow).build().score(in, out));
            assertTrue(e.getMessage().contains("record batch block 1 declares"), e.getMessage());
            assertTrue(e.getMessage().contains((1L << 40) + " bytes of body"), e.getMessage());
        });
        assertTrue(allocated < MAX_ALLOCATED_BYTES, "allocated " + allocated + " bytes");
    }

    @Test
    void aRecordBatchClaimingMoreRowsThanItsBodyHoldsIsRefused() throws Exception {
        Path in = dir.resolve("rows.arrows");
        try (BufferAllocator a = new RootAllocator();
             FileChannel ch = FileChannel.open(in, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            WriteChannel out = new WriteChannel(ch);
            MessageSerializer.serialize(out, PROMPTS);
            ArrowBuf validity = a.buffer(8), offsets = a.buffer(8), data = a.buffer(8);
            for (ArrowBuf b : List.of(validity, offsets, data)) b.setZero(0, b.capacity());
            try (ArrowRecordBatch batch = new ArrowRecordBatch(Integer.MAX_VALUE, List.of(new ArrowFieldNode(Integer.MAX_VALUE, 0)),
                    List.of(validity, offsets, data))) {
                MessageSerializer.serialize(out, batch);
            }
            for (ArrowBuf b : List.of(validity, offsets, data)) b.close();
            ArrowStreamWriter.writeEndOfStream(out, IpcOption.DEFAULT);
        }
        ArrowInputException e = assertThrows(ArrowInputException.class, () -> IpcLayout.check(in, false));
        assertTrue(e.getMessage().contains("record batch 2 claims 2147483647 rows in a body of "), e.getMessage());
    }
}
