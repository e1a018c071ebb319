package io.latteflow.arrow;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.ArrowWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/** Writes test inputs with Arrow Java and reads outputs back into plain maps. */
final class ArrowTables {
    private ArrowTables() {
    }

    static Field utf8(String name) {
        return Field.nullable(name, ArrowType.Utf8.INSTANCE);
    }

    static Field int64(String name) {
        return Field.nullable(name, new ArrowType.Int(64, true));
    }

    static Field int32(String name) {
        return Field.nullable(name, new ArrowType.Int(32, true));
    }

    static Field float32(String name) {
        return Field.nullable(name, new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE));
    }

    static Field hfImage(String name) {
        return new Field(name, FieldType.nullable(ArrowType.Struct.INSTANCE), List.of(
                Field.nullable("bytes", ArrowType.Binary.INSTANCE), Field.nullable("path", ArrowType.Utf8.INSTANCE)));
    }

    /**
     * Writes {@code rows} rows in record batches of {@code perBatch}; {@code cell.apply(row)} gives each row's values
     * by column name (a missing or null value is a null cell).
     */
    static void write(Path file, boolean stream, Schema schema, int rows, int perBatch, IntFunction<Map<String, Object>> cell)
            throws IOException {
        try (BufferAllocator a = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(schema, a);
             FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
             ArrowWriter w = stream ? new ArrowStreamWriter(root, null, ch) : new ArrowFileWriter(root, null, ch)) {
            w.start();
            for (int start = 0; start < rows; start += perBatch) {
                int n = Math.min(perBatch, rows - start);
                root.allocateNew();
                for (int i = 0; i < n; i++) {
                    Map<String, Object> values = cell.apply(start + i);
                    for (FieldVector v : root.getFieldVectors()) set(v, i, values.get(v.getName()));
                }
                root.setRowCount(n);
                w.writeBatch();
            }
            w.end();
        }
    }

    private static void set(FieldVector v, int i, Object value) {
        if (value == null) {
            if (v instanceof StructVector s) s.setNull(i);
            else if (v instanceof org.apache.arrow.vector.BaseFixedWidthVector f) f.setNull(i);
            else if (v instanceof org.apache.arrow.vector.BaseVariableWidthVector b) b.setNull(i);
            return;
        }
        if (v instanceof VarCharVector s) s.setSafe(i, value.toString().getBytes(StandardCharsets.UTF_8));
        else if (v instanceof VarBinaryVector b) b.setSafe(i, (byte[]) value);
        else if (v instanceof BigIntVector b) b.setSafe(i, ((Number) value).longValue());
        else if (v instanceof IntVector b) b.setSafe(i, ((Number) value).intValue());
        else if (v instanceof Float4Vector f) f.setSafe(i, ((Number) value).floatValue());
        else if (v instanceof StructVector s) {
            byte[] bytes = (byte[]) value;
            s.setIndexDefined(i);
            ((VarBinaryVector) s.getChild("bytes")).setSafe(i, bytes);
            ((VarCharVector) s.getChild("path")).setSafe(i, ("img" + i + ".png").getBytes(StandardCharsets.UTF_8));
        } else throw new IllegalArgumentException("no setter for " + v.getClass());
    }

    /** An output file read back: its schema and every row as column name -> value (getObject, image structs as maps). */
    record Table(Schema schema, List<Map<String, Object>> rows) {
    }

    static Table read(Path file) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (BufferAllocator a = new RootAllocator();
             ArrowFileReader r = new ArrowFileReader(Files.newByteChannel(file), a)) {
            VectorSchemaRoot root = r.getVectorSchemaRoot();
            Schema schema = root.getSchema();
            while (r.loadNextBatch()) {
                for (int i = 0; i < root.getRowCount(); i++) {
                    Map<String, Object> row = new HashMap<>();
                    for (FieldVector v : root.getFieldVectors()) {
                        Object o = v.getObject(i);
                        if (o instanceof org.apache.arrow.vector.util.Text t) o = t.toString();
                        if (v instanceof StructVector s && !s.isNull(i)) {
                            Map<String, Object> m = new HashMap<>();
                            m.put("bytes", ((VarBinaryVector) s.getChild("bytes")).getObject(i));
                            VarCharVector p = (VarCharVector) s.getChild("path");
                            m.put("path", p.isNull(i) ? null : p.getObject(i).toString());
                            o = m;
                        }
                        row.put(v.getName(), o);
                    }
                    rows.add(row);
                }
            }
            return new Table(schema, rows);
        }
    }
}
