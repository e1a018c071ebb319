package io.latteflow.arrow;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BaseLargeVariableWidthVector;
import org.apache.arrow.vector.BaseVariableWidthVector;
import org.apache.arrow.vector.BaseVariableWidthViewVector;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.NonNullableStructVector;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.message.ArrowDictionaryBatch;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.util.ValueVectorUtility;
import org.apache.arrow.vector.util.VectorBatchAppender;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SeekableByteChannel;
import java.util.List;
import java.util.Map;

/**
 * Loads record and dictionary batches into vectors as Arrow's {@link VectorLoader} does, but checks every column
 * before Arrow sets the batch's row count (issue 19). Arrow attaches each field node's buffers to its vector, then
 * {@link VectorSchemaRoot#setRowCount} sets every column, and through a struct every field, to the batch's length,
 * reallocating whatever holds fewer values; a column that holds fewer values than the batch has rows, or a struct field
 * fewer than its struct, made Arrow grow buffers whose sizes disagree with each other, and the copy threw
 * {@code IndexOutOfBoundsException} after the new buffer was allocated, leaving it held for good (found by fuzzing:
 * 32 bytes, and the input's allocator could not close). Here every column must hold exactly the batch's rows, every
 * struct field exactly its struct's values, and every vector pass Arrow's full validation (buffer sizes, offsets,
 * child lengths) before the row count is set, so that setting it grows nothing; a batch that fails is closed and
 * refused with a {@link BadBatch} naming the column and the lengths. Arrow's full validation itself copies values out,
 * so what it trusts is checked before it runs ({@link #checkValueBounds}).
 */
final class BatchLoader {
    private BatchLoader() {
    }

    /** A record or dictionary batch whose columns disagree with its length or with themselves. */
    static final class BadBatch extends IllegalArgumentException {
        BadBatch(String message) {
            super(message);
        }

        BadBatch(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Loads {@code batch} into {@code root} (the reader's own root), checked; closes the batch. */
    static void load(VectorSchemaRoot root, ArrowRecordBatch batch, String what) {
        try {
            VectorSchemaRoot checking = new VectorSchemaRoot(root.getSchema(), root.getFieldVectors(), 0) {
                @Override
                public void setRowCount(int rows) {     // VectorLoader's last step: check instead of growing
                    check(getFieldVectors(), rows, what);
                }
            };
            new VectorLoader(checking, CompressionCodec.Factory.INSTANCE).load(batch);
            root.setRowCount(batch.getLength());        // every column already holds this many values
        } finally {
            batch.close();
        }
    }

    /**
     * Loads a dictionary batch into its dictionary's vector, as {@link ArrowReader}'s own {@code loadDictionary} does
     * (a delta batch is appended), checked; closes the batch, also when its id is not in the schema (Arrow's own
     * refusal leaves it open).
     */
    static void loadDictionary(Map<Long, Dictionary> dictionaries, BufferAllocator allocator, ArrowDictionaryBatch batch) {
        try {
            Dictionary dictionary = dictionaries.get(batch.getDictionaryId());
            if (dictionary == null) throw new BadBatch("dictionary " + batch.getDictionaryId() + " is not defined in the schema");
            FieldVector vector = dictionary.getVector();
            String what = "dictionary " + batch.getDictionaryId();
            if (!batch.isDelta()) {
                load(new VectorSchemaRoot(List.of(vector.getField()), List.of(vector), 0), batch.getDictionary(), what);
                return;
            }
            try (FieldVector delta = vector.getField().createVector(allocator)) {
                load(new VectorSchemaRoot(List.of(delta.getField()), List.of(delta), 0), batch.getDictionary(), what);
                VectorBatchAppender.batchAppend(vector, delta);
            }
        } finally {
            batch.close();
        }
    }

    private static void check(List<FieldVector> columns, int rows, String what) {
        for (FieldVector column : columns) {
            String name = what + " '" + column.getName() + "'";
            if (column.getValueCount() != rows) {
                throw new BadBatch(name + " holds " + values(column.getValueCount()) + ", but its record batch has " + rows
                        + (rows == 1 ? " row" : " rows"));
            }
            checkStructFields(column, what, column.getName());
            try {
                ValueVectorUtility.validate(column);                     // buffer sizes, child lengths
                checkValueBounds(column, what, column.getName());        // before the full validation copies values out
                ValueVectorUtility.validateFull(column);                 // offsets in order, UTF-8, ...
            } catch (BadBatch e) {
                throw e;
            } catch (RuntimeException e) {               // ValidateUtil.ValidateException, or a buffer it could not read
                throw new BadBatch(name + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
            }
        }
    }

    /** Every field of a struct holds one value per struct value, at any depth; a nested one is named by its path. */
    private static void checkStructFields(FieldVector vector, String what, String path) {
        for (FieldVector child : vector.getChildrenFromFields()) {
            if (vector instanceof NonNullableStructVector && child.getValueCount() != vector.getValueCount()) {
                throw new BadBatch(what + " '" + path + "': its field '" + child.getName() + "' holds "
                        + values(child.getValueCount()) + ", but the struct holds " + vector.getValueCount());
            }
            checkStructFields(child, what, path + "." + child.getName());
        }
    }

    /**
     * Arrow's full validation copies every string or binary value into an array to check it, trusting the first
     * offset (it checks only that the offsets after it do not run backwards) and a view's length: a first offset of
     * -882086663 made it allocate 882 MB for one value (issue 19, found by fuzzing: out of memory under -Xmx1g). With
     * the first offset at 0 or more, no value is longer than the data buffer, which lies in the file.
     */
    private static void checkValueBounds(FieldVector vector, String what, String path) {
        FieldVector v = vector instanceof ExtensionTypeVector<?> e ? e.getUnderlyingVector() : vector;
        int n = v.getValueCount();
        long first = n == 0 ? 0 : v instanceof BaseVariableWidthVector ? v.getOffsetBuffer().getInt(0)
                : v instanceof BaseLargeVariableWidthVector ? v.getOffsetBuffer().getLong(0) : 0;
        if (first < 0) throw new BadBatch(what + " '" + path + "': its first value starts at offset " + first);
        if (v instanceof BaseVariableWidthViewVector views) {
            ArrowBuf view = views.getDataBuffer();
            List<ArrowBuf> data = views.getDataBuffers();
            for (int i = 0; i < n; i++) {
                if (views.isNull(i)) continue;
                long at = (long) i * BaseVariableWidthViewVector.ELEMENT_SIZE;
                int length = view.getInt(at), buffer = view.getInt(at + 8), offset = view.getInt(at + 12);
                if (length < 0 || length > BaseVariableWidthViewVector.INLINE_SIZE
                        && (buffer < 0 || buffer >= data.size() || offset < 0 || offset + (long) length > data.get(buffer).capacity())) {
                    throw new BadBatch(what + " '" + path + "': value " + i + " claims " + length + " bytes at offset " + offset
                            + " of data buffer " + buffer + ", which it has " + data.size() + " of");
                }
            }
        }
        for (FieldVector child : v.getChildrenFromFields()) checkValueBounds(child, what, path + "." + child.getName());
    }

    private static String values(int n) {
        return n + (n == 1 ? " value" : " values");
    }

    /** Arrow's stream reader, loading through {@link BatchLoader}. */
    static final class StreamReader extends ArrowStreamReader {
        StreamReader(SeekableByteChannel in, BufferAllocator allocator) {
            super(in, allocator);
        }

        @Override
        protected void loadRecordBatch(ArrowRecordBatch batch) {
            load(root(this), batch, "column");
        }

        @Override
        protected void loadDictionary(ArrowDictionaryBatch batch) {
            BatchLoader.loadDictionary(dictionaries, allocator, batch);
        }
    }

    /** Arrow's file reader, loading through {@link BatchLoader}. */
    static final class FileReader extends ArrowFileReader {
        FileReader(SeekableByteChannel in, BufferAllocator allocator) {
            super(in, allocator);
        }

        @Override
        protected void loadRecordBatch(ArrowRecordBatch batch) {
            load(root(this), batch, "column");
        }

        @Override
        protected void loadDictionary(ArrowDictionaryBatch batch) {
            BatchLoader.loadDictionary(dictionaries, allocator, batch);
        }
    }

    /** The reader's root; it exists by the time a batch is loaded (the reader initialises before reading one). */
    private static VectorSchemaRoot root(ArrowReader reader) {
        try {
            return reader.getVectorSchemaRoot();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
