package io.latteflow.arrow;

import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * An Arrow IPC input, file or stream format (told apart by the file format's magic), read one record batch at a
 * time. Its declared sizes are checked against the file ({@link IpcLayout}) before a reader opens it, and the reader
 * allocates from a child allocator capped at what the file can hold; its batches load through {@link BatchLoader},
 * which checks every column's length and buffers before Arrow sets a batch's row count. Every failure of the Arrow
 * readers is turned into an {@link ArrowInputException} that names the file.
 */
final class InputTable implements AutoCloseable {
    private static final byte[] FILE_MAGIC = "ARROW1".getBytes(StandardCharsets.US_ASCII);

    /** Room for one record batch beyond the file's own bytes: flatbuffer tables, vectors' bookkeeping. */
    private static final long READ_SLACK_BYTES = 64L << 20;

    private final Path path;
    private final ArrowReader reader;
    private final BufferAllocator allocator;
    private final boolean fileFormat;
    private final VectorSchemaRoot root;
    /** Where a stream cut short is cut (the reader sees the bytes before it); -1 for a whole input. */
    private final long cutAt;
    private int batchesRead;

    private InputTable(Path path, ArrowReader reader, BufferAllocator allocator, boolean fileFormat, VectorSchemaRoot root, long cutAt) {
        this.path = path;
        this.reader = reader;
        this.allocator = allocator;
        this.fileFormat = fileFormat;
        this.root = root;
        this.cutAt = cutAt;
    }

    /**
     * Most a reader of this file may allocate: a record batch's buffers are slices of its body, which the file holds,
     * so a reader asking for more (a batch claiming more rows than it stores) is stopped with Arrow's
     * OutOfMemoryException, reported as a damaged batch, instead of growing until the process dies (issue 19).
     */
    private static long readLimit(Path path) throws IOException {
        return 2 * Files.size(path) + READ_SLACK_BYTES;
    }

    static InputTable open(Path path, BufferAllocator allocator) throws ArrowInputException {
        byte[] head = new byte[FILE_MAGIC.length];
        int got;
        try (InputStream in = Files.newInputStream(path)) {
            got = in.readNBytes(head, 0, head.length);
        } catch (NoSuchFileException e) {
            throw new ArrowInputException("Input '" + path + "' does not exist");
        } catch (IOException e) {
            throw new ArrowInputException("Input '" + path + "' cannot be read: " + e.getMessage(), e);
        }
        if (got == 0) throw new ArrowInputException("Input '" + path + "' is empty; expected an Arrow IPC file or stream");
        boolean file = got == head.length && java.util.Arrays.equals(head, FILE_MAGIC);
        long whole = IpcLayout.check(path, file);
        ArrowReader reader = null;
        BufferAllocator input = null;
        try {
            input = allocator.newChildAllocator("input " + path.getFileName(), 0, readLimit(path));
            long size = Files.size(path);
            SeekableByteChannel channel = Files.newByteChannel(path);
            if (whole < size) channel = new PrefixChannel(channel, whole);
            reader = file ? new BatchLoader.FileReader(channel, input) : new BatchLoader.StreamReader(channel, input);
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            requireNames(root.getSchema().getFields(), "");
            return new InputTable(path, reader, input, file, root, whole < size ? whole : -1);
        } catch (IOException | RuntimeException e) {
            closeQuietly(reader, input);
            String what = file ? "starts like an Arrow IPC file but its footer or schema is damaged (truncated?)"
                    : "is not an Arrow IPC file or stream (or its schema message is damaged)";
            throw new ArrowInputException("Input '" + path + "' " + what + ": " + describe(e), e);
        }
    }

    /**
     * A column (or struct field) without a name cannot be matched to the expected schema; the schema check compared
     * names and threw NullPointerException for it (issue 19, found by fuzzing).
     */
    private static void requireNames(java.util.List<org.apache.arrow.vector.types.pojo.Field> fields, String parent) throws IOException {
        for (int i = 0; i < fields.size(); i++) {
            org.apache.arrow.vector.types.pojo.Field f = fields.get(i);
            if (f.getName() == null) throw new IOException("its schema's " + parent + "column " + (i + 1) + " has no name");
            requireNames(f.getChildren(), parent + f.getName() + ".");
        }
    }

    Schema schema() {
        return root.getSchema();
    }

    VectorSchemaRoot root() {
        return root;
    }

    /** Loads the next record batch into {@link #root()}; false at the end. */
    boolean next(long rowsBefore) throws ArrowInputException {
        try {
            // Every column's length, buffers and offsets are checked as the batch loads, before a row is read
            // (BatchLoader): a string column whose offsets run backwards made VarCharVector.get throw
            // NegativeArraySizeException out of the row reader, a struct field shorter than its struct leaked Arrow
            // memory (issue 19, both found by fuzzing).
            boolean more = reader.loadNextBatch();
            if (more) batchesRead++;
            if (!more && cutAt >= 0) throw new IOException("the stream is cut short at byte " + cutAt + " (truncated?)");
            return more;
        } catch (IOException | RuntimeException e) {
            throw new ArrowInputException("Input '" + path + "' is damaged at record batch " + (batchesRead + 1) + " (after row "
                    + rowsBefore + "): " + describe(e), e);
        }
    }

    /** Rows in the input, read from the record batch headers of a file without loading any data; -1 for a stream. */
    long countRows() throws ArrowInputException {
        if (!fileFormat) return -1;
        try (SeekableByteChannel channel = Files.newByteChannel(path)) {
            long total = 0;
            for (ArrowBlock block : ((ArrowFileReader) reader).getRecordBlocks()) {
                channel.position(block.getOffset());
                MessageMetadataResult message = MessageSerializer.readMessage(new ReadChannel(channel));
                if (message == null) throw new IOException("record batch header missing at offset " + block.getOffset());
                RecordBatch header = (RecordBatch) message.getMessage().header(new RecordBatch());
                if (header == null) throw new IOException("message at offset " + block.getOffset() + " is not a record batch");
                total += header.length();
            }
            return total;
        } catch (IOException | RuntimeException e) {
            throw new ArrowInputException("Input '" + path + "' has a damaged record batch index: " + describe(e), e);
        }
    }

    @Override
    public void close() {
        closeQuietly(reader, allocator);
    }

    private static void closeQuietly(ArrowReader reader, BufferAllocator allocator) {
        try {
            if (reader != null) reader.close();
        } catch (IOException | RuntimeException ignored) {
            // A reader that failed half-way may not close cleanly; the original error is the one to report.
        }
        try {
            if (allocator != null) allocator.close();
        } catch (RuntimeException ignored) {
            // Buffers a failed reader still holds are released with the root allocator.
        }
    }

    static String describe(Throwable e) {
        if (e instanceof BatchLoader.BadBatch) return e.getMessage();
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
