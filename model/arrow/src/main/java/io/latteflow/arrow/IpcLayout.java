package io.latteflow.arrow;

import org.apache.arrow.flatbuf.Block;
import org.apache.arrow.flatbuf.Buffer;
import org.apache.arrow.flatbuf.Field;
import org.apache.arrow.flatbuf.FieldNode;
import org.apache.arrow.flatbuf.Footer;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.flatbuf.Schema;
import org.apache.arrow.flatbuf.Type;
import org.apache.arrow.flatbuf.Union;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Checks every size an Arrow IPC input declares against the file itself, reading only message headers, before an
 * Arrow reader allocates for them (issue 19). Arrow's readers trust a message's length prefix and allocate it first:
 * a 22-byte text file read as a stream asked for 1.9 GB of heap (its first four bytes as a little-endian length) and
 * died with {@code OutOfMemoryError} under {@code -Xmx1g}. Here every metadata length and footer block must fit in the
 * bytes the file has, and a record batch may not claim more rows than its body could hold.
 *
 * <pre>{@code
 * IpcLayout.check(Path.of("prompts.arrow"), true);   // throws ArrowInputException naming the file and the byte
 * }</pre>
 */
final class IpcLayout {
    private static final int CONTINUATION = 0xFFFFFFFF;
    private static final int MAGIC_BYTES = 6;
    /** The file format's tail: the footer's length (int32) and the magic. */
    private static final int TAIL_BYTES = 4 + MAGIC_BYTES;
    /** A footer's Block struct: offset (int64), metadata length (int32, padded to 8) and body length (int64). */
    private static final int BLOCK_BYTES = 24;
    /** Deepest nesting of columns accepted, as Arrow C++'s IPC reader (kMaxNestingDepth). */
    static final int MAX_NESTING = 64;
    /** Most columns and fields, at every depth together, a schema may list. */
    static final int MAX_FIELDS = 100_000;

    private final Path path;
    private final FileChannel channel;
    private final boolean fileFormat;
    private final long size;

    private IpcLayout(Path path, FileChannel channel, boolean fileFormat) throws IOException {
        this.path = path;
        this.channel = channel;
        this.fileFormat = fileFormat;
        this.size = channel.size();
    }

    /**
     * Checks {@code path} as the IPC file format ({@code fileFormat}) or the stream format, and returns how many of
     * its bytes hold whole messages: the file's size, or for a stream cut short the offset where the cut message
     * starts. A reader given only those bytes never allocates for a length the file does not hold.
     */
    static long check(Path path, boolean fileFormat) throws ArrowInputException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            IpcLayout layout = new IpcLayout(path, channel, fileFormat);
            if (!fileFormat) return layout.checkStream();
            layout.checkFile();
            return layout.size;
        } catch (ArrowInputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {        // a flatbuffer that points outside itself, an unreadable file
            throw new ArrowInputException("Input '" + path + "' " + (fileFormat ? "starts like an Arrow IPC file but is damaged"
                    : "is not an Arrow IPC file or stream") + ": " + InputTable.describe(e), e);
        }
    }

    /**
     * The stream format: length-prefixed messages, each followed by its body, up to an end-of-stream marker or the end.
     * Returns where the first message that runs past the end of the file starts (the file's size when none does): a
     * stream cut short, whose batches before the cut are still scored, and resumable, before the cut is reported.
     */
    private long checkStream() throws IOException {
        long at = 0;
        for (int index = 1; at < size; index++) {
            Header h = header(at, size, index == 1);
            if (h == null) return size;                                     // the end-of-stream marker
            if (h.bodyStart() < 0) return at;                               // metadata cut short
            long body = h.message().bodyLength();
            if (body < 0) throw damaged("message " + index + " at byte " + at + " declares a body of " + body + " bytes");
            if (body > size - h.bodyStart()) return at;
            // A schema first, then record and dictionary batches: Arrow reads any other message's body before it
            // refuses it, and leaks that body (issue 19, found by fuzzing).
            byte type = h.message().headerType();
            boolean expected = index == 1 ? type == MessageHeader.Schema
                    : type == MessageHeader.RecordBatch || type == MessageHeader.DictionaryBatch;
            if (!expected) {
                throw damaged("message " + index + " at byte " + at + " is a " + headerName(type) + " message, where "
                        + (index == 1 ? "the schema" : "a record or dictionary batch") + " belongs");
            }
            if (index == 1) checkSchema((Schema) h.message().header(new Schema()), "its schema");
            checkRows(h.message(), body, index);
            at = h.bodyStart() + body;
        }
        return size;
    }

    /** The file format: magic, a stream (its schema), record batch blocks indexed by the footer, footer, magic. */
    private void checkFile() throws IOException {
        if (size < 2L * MAGIC_BYTES + TAIL_BYTES) throw damaged("it has " + size + " bytes, too few for an Arrow IPC file");
        ByteBuffer magic = bytes(size - MAGIC_BYTES, MAGIC_BYTES);
        if (!magic.equals(ByteBuffer.wrap("ARROW1".getBytes(StandardCharsets.US_ASCII)))) {
            throw bad("starts like an Arrow IPC file but its footer or schema is damaged (truncated?): it does not end with ARROW1");
        }
        int footerLength = intAt(size - TAIL_BYTES);
        long footerStart = size - TAIL_BYTES - footerLength;
        if (footerLength <= 0 || footerStart < 2L * MAGIC_BYTES) {
            throw bad("starts like an Arrow IPC file but its footer or schema is damaged (truncated?): it declares a footer of "
                    + footerLength + " bytes in a file of " + size + " bytes");
        }
        Footer footer = Footer.getRootAsFooter(bytes(footerStart, footerLength));
        if (footer.schema() == null) throw damaged("its footer holds no schema");
        checkSchema(footer.schema(), "its footer's schema");
        checkBlocks("record batch", footer.recordBatchesLength(), footer::recordBatches, footerStart, footerLength);
        checkBlocks("dictionary", footer.dictionariesLength(), footer::dictionaries, footerStart, footerLength);
    }

    /**
     * Arrow Java turns a schema's fields into its own by following each field's children, without a limit: a field
     * listed as its own child (two flatbuffer offsets pointing at each other) recursed until StackOverflowError
     * (issue 19, found by fuzzing), and children shared by many parents would be converted again for each. Every
     * field is walked here first, at most {@link #MAX_NESTING} deep and {@link #MAX_FIELDS} in all, and what Arrow
     * allocates for by a count in the schema is checked against what the count describes.
     */
    private void checkSchema(Schema schema, String what) throws IOException {
        if (schema == null) throw damaged(what + " is missing");
        int[] fields = {0};
        for (int i = 0; i < schema.fieldsLength(); i++) checkField(schema.fields(i), 1, fields, what);
    }

    private void checkField(Field field, int depth, int[] fields, String what) throws IOException {
        if (depth > MAX_NESTING) throw damaged(what + " nests its columns more than " + MAX_NESTING + " deep (a field inside itself?)");
        if (++fields[0] > MAX_FIELDS) throw damaged(what + " lists more than " + MAX_FIELDS + " columns and fields");
        // Arrow sizes an array by a union's count of type ids before reading them: a count of 2^31 - 1 in a 300-byte
        // file ran out of memory (issue 19, found by fuzzing). A union has one type id per child.
        if (field.typeType() == Type.Union) {
            Union union = (Union) field.type(new Union());
            int ids = union == null ? 0 : union.typeIdsLength();
            if (ids < 0 || ids > field.childrenLength()) {
                throw damaged(what + "'s union field '" + field.name() + "' lists " + ids + " type ids for "
                        + field.childrenLength() + " children");
            }
        }
        for (int i = 0; i < field.childrenLength(); i++) checkField(field.children(i), depth + 1, fields, what);
    }

    private interface Blocks {
        Block get(Block into, int i);
    }

    private void checkBlocks(String what, int count, Blocks blocks, long footerStart, int footerLength) throws IOException {
        if (count < 0 || (long) count * BLOCK_BYTES > footerLength) throw damaged("its footer lists " + count + " " + what + " blocks");
        Block b = new Block();
        for (int i = 0; i < count; i++) {
            blocks.get(b, i);
            long offset = b.offset(), metadata = b.metaDataLength(), body = b.bodyLength();
            if (offset < 2 * MAGIC_BYTES || metadata <= 0 || body < 0 || metadata > footerStart - offset
                    || body > footerStart - offset - metadata) {
                throw damaged(what + " block " + (i + 1) + " declares " + metadata + " bytes of metadata and " + body
                        + " bytes of body at byte " + offset + ", outside the " + footerStart + " bytes before the footer");
            }
            Header h = header(offset, offset + metadata, false);
            if (h == null) throw damaged(what + " block " + (i + 1) + " at byte " + offset + " holds no message");
            Message m = h.message();
            byte want = what.equals("dictionary") ? MessageHeader.DictionaryBatch : MessageHeader.RecordBatch;
            if (m.headerType() != want) {
                throw damaged(what + " block " + (i + 1) + " at byte " + offset + " holds a " + headerName(m.headerType()) + " message");
            }
            if (m.bodyLength() != body) {
                throw damaged(what + " block " + (i + 1) + " at byte " + offset + " declares a body of " + body
                        + " bytes but its message one of " + m.bodyLength());
            }
            checkRows(m, body, i + 1);
        }
    }

    /** A message's metadata and where its body starts. */
    private record Header(Message message, long bodyStart) {
    }

    /**
     * The message whose length prefix is at {@code at}, its metadata within {@code end}; null for the end-of-stream
     * marker. {@code firstOfInput}: the input's first message, where text that is not Arrow at all is caught. In a
     * stream, a later message whose metadata runs past the end is a cut (body start -1, no message).
     */
    private Header header(long at, long end, boolean firstOfInput) throws IOException {
        boolean cutIsFine = !fileFormat && !firstOfInput;
        Header cut = new Header(null, -1);
        if (end - at < 4) {
            if (cutIsFine) return cut;
            throw damaged("it ends inside the length of the message at byte " + at);
        }
        int prefix = 4, length = intAt(at);
        if (length == CONTINUATION) {                 // since Arrow 1.0; before it, a bare 4-byte length
            if (end - at < 8) {
                if (cutIsFine) return cut;
                throw damaged("it ends inside the length of the message at byte " + at);
            }
            prefix = 8;
            length = intAt(at + 4);
        }
        if (length == 0) return null;
        long room = end - at - prefix;
        if (cutIsFine && (length < 0 || length > room)) return cut;
        if (length < 0 || length > room) {
            String why = " declares " + Integer.toUnsignedString(length) + " bytes of metadata, but only " + room + " bytes follow";
            throw firstOfInput ? bad("is not an Arrow IPC file or stream: its first message" + why) : damaged("the message at byte " + at + why);
        }
        return new Header(Message.getRootAsMessage(bytes(at + prefix, length)), at + prefix + length);
    }

    /**
     * Every column but Arrow's null type stores at least a bit per row in the body, so a record batch claiming more
     * than 8 rows per body byte is damaged; Arrow would otherwise grow its vectors to the claimed length.
     */
    private void checkRows(Message m, long body, int index) throws IOException {
        if (m.headerType() != MessageHeader.RecordBatch && m.headerType() != MessageHeader.DictionaryBatch) return;
        try {
            // A dictionary batch carries its values as a record batch, which Arrow reads the same way, after the body.
            RecordBatch rb = m.headerType() == MessageHeader.RecordBatch ? (RecordBatch) m.header(new RecordBatch())
                    : dictionaryData((org.apache.arrow.flatbuf.DictionaryBatch) m.header(new org.apache.arrow.flatbuf.DictionaryBatch()));
            if (rb == null) throw damaged("record batch " + index + " has no header");
            checkRows(rb, body, index);
        } catch (RuntimeException unreadable) {
            // Arrow reads the header's vectors (nodes, buffers, variadic counts, compression) after it has read the
            // body, and leaks the body when one of them cannot be read (issue 19, found by fuzzing: a variadic-count
            // vector whose offset points outside the header threw IndexOutOfBoundsException): read them all here first.
            throw damaged("record batch " + index + " has a header that cannot be read (" + unreadable.getClass().getSimpleName() + ")");
        }
    }

    /** A dictionary batch's values; its id and delta flag, which Arrow reads after the body, read here first. */
    private static RecordBatch dictionaryData(org.apache.arrow.flatbuf.DictionaryBatch batch) {
        if (batch == null) return null;
        batch.id();
        batch.isDelta();
        return batch.data();
    }

    private void checkRows(RecordBatch rb, long body, int index) throws IOException {
        for (int i = 0; i < rb.variadicBufferCountsLength(); i++) rb.variadicBufferCounts(i);
        if (rb.compression() != null) {
            rb.compression().codec();
            rb.compression().method();           // found by fuzzing: unreadable, it leaked the body as the above did
        }
        long rows = rb.length();
        // A compressed body may hold fewer bytes; Arrow's own buffer checks and the input's allocator limit cover it.
        if (rows < 0 || (rb.compression() == null && rows > 8 * body)) {
            throw damaged("record batch " + index + " claims " + rows + " rows in a body of " + body + " bytes");
        }
        // Arrow refuses a batch longer than an int only after it has read the body, and leaks the body (issue 19,
        // found by fuzzing: a compressed batch, which the check above lets through, claiming 721554505748 rows).
        if (rows > Integer.MAX_VALUE) {
            throw damaged("record batch " + index + " claims " + rows + " rows, more than Arrow reads in one batch ("
                    + Integer.MAX_VALUE + ")");
        }
        // Arrow refuses a column node longer than an int only after it has read the body, and leaks the body's buffer
        // when it does (issue 19, found by fuzzing): refused here, before Arrow reads the batch.
        FieldNode node = new FieldNode();
        for (int i = 0; i < rb.nodesLength(); i++) {
            rb.nodes(node, i);
            if (node.length() < 0 || node.length() > Integer.MAX_VALUE || node.nullCount() < 0 || node.nullCount() > node.length()) {
                throw damaged("record batch " + index + " column node " + (i + 1) + " claims " + node.length() + " values of which "
                        + node.nullCount() + " null");
            }
        }
        // The same for a buffer that lies outside the body: Arrow's slice fails after the body is read and leaks it.
        Buffer buffer = new Buffer();
        for (int i = 0; i < rb.buffersLength(); i++) {
            rb.buffers(buffer, i);
            if (buffer.offset() < 0 || buffer.length() < 0 || buffer.length() > body - buffer.offset()) {
                throw damaged("record batch " + index + " buffer " + (i + 1) + " lies at bytes [" + buffer.offset() + ", +"
                        + buffer.length() + ") of a body of " + body + " bytes");
            }
        }
    }

    private static String headerName(byte type) {
        return type >= 0 && type < MessageHeader.names.length ? MessageHeader.name(type) : "type " + type;
    }

    private int intAt(long at) throws IOException {
        if (at < 0 || at + 4 > size) throw damaged("it ends at byte " + size + " inside a length field");
        return bytes(at, 4).getInt();
    }

    /** {@code length} bytes at {@code at}, which the callers have checked lie inside the file. */
    private ByteBuffer bytes(long at, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (channel.read(b, at + b.position()) < 0) throw damaged("it ends at byte " + (at + b.position()));
        }
        return b.flip();
    }

    private ArrowInputException bad(String what) {
        return new ArrowInputException("Input '" + path + "' " + what);
    }

    private ArrowInputException damaged(String detail) {
        return bad((fileFormat ? "starts like an Arrow IPC file but is damaged (truncated?): " : "is damaged (truncated?): ") + detail);
    }
}
