package io.latteflow.arrow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The unfinished output of a run: {@code OUT.part}, an Arrow IPC stream that grows by one record batch per scored
 * batch, and {@code OUT.progress}, a small JSON file saying how many bytes and rows of the part are complete.
 * A batch counts as done only once its bytes are forced to disk and the progress file has been atomically
 * replaced; a resumed run cuts the part back to that length, so a crash mid-write costs at most one batch.
 * {@link #finish} rewrites the part as an Arrow IPC file next to the output and renames it into place.
 */
final class PartFile implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final IpcOption IPC = IpcOption.DEFAULT;

    private final Path output, part, progress;
    private final String fingerprint;
    private final FileChannel channel;
    private final FileLock lock;
    private long bytes, rows, batches;

    private PartFile(Path output, String fingerprint, FileChannel channel, FileLock lock) {
        this.output = output;
        this.part = partOf(output);
        this.progress = progressOf(output);
        this.fingerprint = fingerprint;
        this.channel = channel;
        this.lock = lock;
    }

    static Path partOf(Path output) {
        return output.resolveSibling(output.getFileName() + ".part");
    }

    static Path progressOf(Path output) {
        return output.resolveSibling(output.getFileName() + ".progress");
    }

    /** True when an interrupted run of this output left its progress behind. */
    static boolean unfinished(Path output) {
        return Files.exists(progressOf(output));
    }

    /** Starts a new part, discarding any earlier unfinished one. */
    static PartFile create(Path output, String fingerprint, Schema schema) throws IOException {
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.deleteIfExists(progressOf(output));
        FileChannel ch = FileChannel.open(partOf(output), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        PartFile p = new PartFile(output, fingerprint, ch, lock(ch, output));
        ch.truncate(0);
        MessageSerializer.serialize(new WriteChannel(ch), schema, IPC);
        ch.force(true);
        p.bytes = ch.position();
        p.writeProgress();
        return p;
    }

    /** Reopens the part of an interrupted run with the same fingerprint, positioned after its last complete batch. */
    static PartFile resume(Path output, String fingerprint) throws IOException {
        JsonNode state;
        try {
            state = JSON.readTree(Files.readString(progressOf(output)));
        } catch (IOException e) {
            throw new ArrowInputException("Cannot resume: '" + progressOf(output) + "' is unreadable (" + e.getMessage()
                    + "); run without --resume to start over", e);
        }
        String before = state.path("fingerprint").asText();
        if (!before.equals(fingerprint)) {
            throw new ArrowInputException("Cannot resume '" + output + "': the unfinished run used a different input, model or "
                    + "settings (" + difference(before, fingerprint) + "); repeat its exact command, or run without --resume "
                    + "to start over");
        }
        long bytes = state.path("bytes").asLong(-1);
        if (!Files.exists(partOf(output)) || bytes < 0 || Files.size(partOf(output)) < bytes) {
            throw new ArrowInputException("Cannot resume '" + output + "': '" + partOf(output) + "' is missing or shorter than "
                    + "its progress file records; run without --resume to start over");
        }
        FileChannel ch = FileChannel.open(partOf(output), StandardOpenOption.WRITE, StandardOpenOption.READ);
        PartFile p = new PartFile(output, fingerprint, ch, lock(ch, output));
        ch.truncate(bytes);
        ch.position(bytes);
        p.bytes = bytes;
        p.rows = state.path("rows").asLong();
        p.batches = state.path("batches").asLong();
        return p;
    }

    private static FileLock lock(FileChannel ch, Path output) throws IOException {
        try {
            FileLock l = ch.tryLock();
            if (l != null) return l;
        } catch (OverlappingFileLockException ignored) {
            // Same JVM: reported like another process.
        }
        ch.close();
        throw new ArrowInputException("Another scoring run is writing '" + output + "' (its .part file is locked)");
    }

    long rows() {
        return rows;
    }

    long batches() {
        return batches;
    }

    /** Appends the root's rows as one record batch and makes them durable. */
    void append(VectorSchemaRoot root) throws IOException {
        try (ArrowRecordBatch batch = new VectorUnloader(root).getRecordBatch()) {
            MessageSerializer.serialize(new WriteChannel(channel), batch, IPC);
        }
        channel.force(false);
        bytes = channel.position();
        rows += root.getRowCount();
        batches++;
        writeProgress();
    }

    /** Turns the complete part into the output file (atomically), then removes the part and progress files. */
    void finish(Schema schema, BufferAllocator allocator) throws IOException {
        ArrowStreamWriter.writeEndOfStream(new WriteChannel(channel), IPC);
        channel.force(false);
        Path tmp = output.resolveSibling(output.getFileName() + ".tmp");
        try (ArrowStreamReader reader = new ArrowStreamReader(Files.newByteChannel(part), allocator);
             VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
             FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                     StandardOpenOption.WRITE);
             ArrowFileWriter writer = new ArrowFileWriter(root, null, out)) {
            writer.start();
            VectorLoader loader = new VectorLoader(root);
            while (reader.loadNextBatch()) {
                try (ArrowRecordBatch batch = new VectorUnloader(reader.getVectorSchemaRoot()).getRecordBatch()) {
                    loader.load(batch);
                }
                writer.writeBatch();
            }
            writer.end();
            out.force(true);
        }
        Files.move(tmp, output, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(progress);
        close();
        Files.deleteIfExists(part);
    }

    private void writeProgress() throws IOException {
        ObjectNode state = JSON.createObjectNode();
        state.put("fingerprint", fingerprint);
        state.put("bytes", bytes);
        state.put("rows", rows);
        state.put("batches", batches);
        Path tmp = progress.resolveSibling(progress.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(state.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            ch.force(true);
        }
        Files.move(tmp, progress, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The first differing line of two fingerprints, for the resume error. */
    private static String difference(String a, String b) {
        String[] x = a.split("\n"), y = b.split("\n");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            String u = i < x.length ? x[i] : "(nothing)", v = i < y.length ? y[i] : "(nothing)";
            if (!u.equals(v)) return "was " + clip(u) + ", now " + clip(v);
        }
        return "unknown difference";
    }

    private static String clip(String s) {
        return s.length() > 160 ? s.substring(0, 157) + "..." : s;
    }

    @Override
    public void close() throws IOException {
        if (!channel.isOpen()) return;
        try {
            if (lock.isValid()) lock.release();
        } finally {
            channel.close();
        }
    }
}
