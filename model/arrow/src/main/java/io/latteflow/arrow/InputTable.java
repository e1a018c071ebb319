package io.latteflow.arrow;

import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
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
 * time. Every failure of the Arrow readers is turned into an {@link ArrowInputException} that names the file.
 */
final class InputTable implements AutoCloseable {
    private static final byte[] FILE_MAGIC = "ARROW1".getBytes(StandardCharsets.US_ASCII);

    private final Path path;
    private final ArrowReader reader;
    private final boolean fileFormat;
    private final VectorSchemaRoot root;
    private int batchesRead;

    private InputTable(Path path, ArrowReader reader, boolean fileFormat, VectorSchemaRoot root) {
        this.path = path;
        this.reader = reader;
        this.fileFormat = fileFormat;
        this.root = root;
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
        ArrowReader reader = null;
        try {
            SeekableByteChannel channel = Files.newByteChannel(path);
            reader = file ? new ArrowFileReader(channel, allocator) : new ArrowStreamReader(channel, allocator);
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            return new InputTable(path, reader, file, root);
        } catch (IOException | RuntimeException e) {
            closeQuietly(reader);
            String what = file ? "starts like an Arrow IPC file but its footer or schema is damaged (truncated?)"
                    : "is not an Arrow IPC file or stream (or its schema message is damaged)";
            throw new ArrowInputException("Input '" + path + "' " + what + ": " + describe(e), e);
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
            boolean more = reader.loadNextBatch();
            if (more) batchesRead++;
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
        closeQuietly(reader);
    }

    private static void closeQuietly(ArrowReader reader) {
        if (reader == null) return;
        try {
            reader.close();
        } catch (IOException | RuntimeException ignored) {
            // A reader that failed half-way may not close cleanly; the original error is the one to report.
        }
    }

    static String describe(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
