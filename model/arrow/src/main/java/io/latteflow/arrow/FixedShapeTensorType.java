package io.latteflow.arrow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.ExtensionTypeRegistry;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

import java.util.Arrays;

/**
 * Arrow's canonical {@code arrow.fixed_shape_tensor} extension type with float32 cells: every value is one
 * row-major tensor of the same shape, stored as {@code fixed_size_list<item: float>[product(shape)]} with the shape
 * in the extension metadata ({@code {"shape":[...]}}), which is what pyarrow's {@code pa.fixed_shape_tensor}
 * reads and writes.
 *
 * <pre>{@code
 * Field latents = FixedShapeTensorType.field("latents", new long[]{16, 12});
 * try (FixedShapeTensorVector v = (FixedShapeTensorVector) latents.createVector(allocator)) {
 *     v.allocateNew();
 *     v.setSafe(0, new float[16 * 12]);
 *     v.setValueCount(1);
 * }
 * }</pre>
 */
public final class FixedShapeTensorType extends ArrowType.ExtensionType {
    /** The canonical extension name. */
    public static final String NAME = "arrow.fixed_shape_tensor";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ArrowType FLOAT32 = new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);

    static {
        // Readers in this JVM then see the column as this type rather than as a bare fixed-size list.
        ExtensionTypeRegistry.register(new FixedShapeTensorType(new long[]{1}));
    }

    private final long[] shape;

    public FixedShapeTensorType(long[] shape) {
        if (shape.length == 0) throw new IllegalArgumentException("a tensor shape needs at least one dimension");
        for (long d : shape) if (d <= 0) throw new IllegalArgumentException("tensor dimensions must be positive: " + Arrays.toString(shape));
        this.shape = shape.clone();
    }

    /** A nullable column of float32 tensors of this shape. */
    public static Field field(String name, long[] shape) {
        FixedShapeTensorType type = new FixedShapeTensorType(shape);
        return new Field(name, FieldType.nullable(type), java.util.List.of(Field.notNullable("item", FLOAT32)));
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Values per tensor. */
    public int size() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return Math.toIntExact(n);
    }

    @Override
    public ArrowType storageType() {
        return new ArrowType.FixedSizeList(size());
    }

    @Override
    public String extensionName() {
        return NAME;
    }

    @Override
    public boolean extensionEquals(ArrowType.ExtensionType other) {
        return other instanceof FixedShapeTensorType t && Arrays.equals(shape, t.shape);
    }

    @Override
    public String serialize() {
        ObjectNode meta = JSON.createObjectNode();
        ArrayNode dims = meta.putArray("shape");
        for (long d : shape) dims.add(d);
        return meta.toString();
    }

    @Override
    public ArrowType deserialize(ArrowType storage, String serialized) {
        if (!(storage instanceof ArrowType.FixedSizeList list)) {
            throw new IllegalArgumentException(NAME + " must be stored as a fixed_size_list, got " + storage);
        }
        try {
            JsonNode dims = JSON.readTree(serialized).path("shape");
            if (!dims.isArray()) throw new IllegalArgumentException(NAME + " metadata has no shape: " + serialized);
            long[] s = new long[dims.size()];
            for (int i = 0; i < s.length; i++) s[i] = dims.get(i).asLong();
            FixedShapeTensorType t = new FixedShapeTensorType(s);
            if (t.size() != list.getListSize()) {
                throw new IllegalArgumentException(NAME + " shape " + Arrays.toString(s) + " does not fill list size " + list.getListSize());
            }
            return t;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(NAME + " metadata is not JSON: " + serialized, e);
        }
    }

    @Override
    public FieldVector getNewVector(String name, FieldType fieldType, BufferAllocator allocator) {
        FixedSizeListVector storage = new FixedSizeListVector(name, allocator,
                new FieldType(fieldType.isNullable(), storageType(), fieldType.getDictionary(), fieldType.getMetadata()), null);
        return new FixedShapeTensorVector(name, allocator, storage, this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FixedShapeTensorType t && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "FixedShapeTensor(float32, " + Arrays.toString(shape) + ")";
    }
}
