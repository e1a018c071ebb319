package io.latteflow.arrow;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

/**
 * A column of {@link FixedShapeTensorType} float32 tensors.
 *
 * <pre>{@code
 * FixedShapeTensorVector v = (FixedShapeTensorVector) FixedShapeTensorType.field("pixels", new long[]{3, 8, 8})
 *         .createVector(allocator);
 * v.allocateNew();
 * v.setSafe(0, pixels);          // 192 floats, row-major
 * float[] back = v.getObject(0); // null for a null cell
 * }</pre>
 */
public final class FixedShapeTensorVector extends ExtensionTypeVector<FixedSizeListVector> {
    private final FixedShapeTensorType type;

    public FixedShapeTensorVector(String name, BufferAllocator allocator, FixedSizeListVector storage, FixedShapeTensorType type) {
        super(new Field(name, FieldType.nullable(type), storage.getField().getChildren()), allocator, storage);
        this.type = type;
    }

    public FixedShapeTensorType tensorType() {
        return type;
    }

    /** The tensor at {@code index}, row-major, or null. */
    @Override
    public float[] getObject(int index) {
        if (isNull(index)) return null;
        int n = type.size();
        Float4Vector values = values();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = values.get(index * n + i);
        return out;
    }

    /** Sets one tensor (row-major, exactly {@code size()} values), growing the buffers as needed. */
    public void setSafe(int index, float[] tensor) {
        int n = type.size();
        if (tensor.length != n) throw new IllegalArgumentException("tensor has " + tensor.length + " values, the column's shape needs " + n);
        FixedSizeListVector storage = getUnderlyingVector();
        int start = storage.startNewValue(index);
        Float4Vector values = values();
        for (int i = 0; i < n; i++) values.setSafe(start + i, tensor[i]);
    }

    @Override
    public void setNull(int index) {
        getUnderlyingVector().setNull(index);
    }

    @Override
    public int hashCode(int index) {
        return getUnderlyingVector().hashCode(index);
    }

    @Override
    public int hashCode(int index, org.apache.arrow.memory.util.hash.ArrowBufHasher hasher) {
        return getUnderlyingVector().hashCode(index, hasher);
    }

    private Float4Vector values() {
        FixedSizeListVector storage = getUnderlyingVector();
        if (storage.getDataVector() instanceof Float4Vector f) return f;
        storage.addOrGetVector(FieldType.notNullable(new org.apache.arrow.vector.types.pojo.ArrowType.FloatingPoint(
                org.apache.arrow.vector.types.FloatingPointPrecision.SINGLE)));
        return (Float4Vector) storage.getDataVector();
    }
}
