package io.latteflow.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.CharConversionException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reader and writer for the safetensors format: an 8-byte little-endian header length N, N bytes of
 * JSON header, then the raw little-endian tensor bytes. Each header entry names a tensor's
 * {@code dtype}, {@code shape} and {@code data_offsets} [begin, end) relative to the data section;
 * the optional {@code __metadata__} entry is a string-to-string map.
 *
 * <p>{@link #open} validates the whole header up front, so a malformed file fails there with a
 * {@link SafeTensorsException} rather than later. Tensor data is memory-mapped only when read, one
 * tensor at a time, so files larger than 2 GiB work. F32, F16 and BF16 tensors are read as FLOAT
 * arrays; other dtypes are listed by {@link #names()} and {@link #info} but cannot be read.
 *
 * <pre>{@code
 * try (SafeTensors st = SafeTensors.open(Path.of("model.safetensors"))) {
 *     for (String name : st.names()) {
 *         INDArray w = st.get(name); // FLOAT, C order, the tensor's shape
 *     }
 * }
 * SafeTensors.write(Path.of("out.safetensors"), Map.of("w", w), DType.BF16, Map.of("step", "100"));
 * }</pre>
 *
 * <p>{@link #get} may be called from several threads at once.
 */
public final class SafeTensors implements AutoCloseable {

    /** One tensor's header entry; {@code begin} and {@code end} are relative to the data section. */
    public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
        public TensorInfo {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** The number of elements; 1 for a scalar (shape []). */
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d; // cannot overflow: open() checked it
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorInfo t && name.equals(t.name) && dtype.equals(t.dtype)
                    && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
        }
    }

    /** The reference implementation's limit; larger headers are taken to be corrupt. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";
    private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");
    /** Bits per element of every dtype the format defines (F4 and F6 pack below a byte). */
    private static final Map<String, Integer> DTYPE_BITS = Map.ofEntries(
            Map.entry("BOOL", 8), Map.entry("U8", 8), Map.entry("I8", 8),
            Map.entry("F8_E4M3", 8), Map.entry("F8_E5M2", 8), Map.entry("F8_E8M0", 8),
            Map.entry("F4", 4), Map.entry("F6_E2M3", 6), Map.entry("F6_E3M2", 6),
            Map.entry("U16", 16), Map.entry("I16", 16), Map.entry("F16", 16), Map.entry("BF16", 16),
            Map.entry("U32", 32), Map.entry("I32", 32), Map.entry("F32", 32),
            Map.entry("U64", 64), Map.entry("I64", 64), Map.entry("F64", 64), Map.entry("C64", 64));
    /** A single mapping is limited to 2 GiB, so big tensors are mapped in pieces of this size. */
    private static final int MAP_CHUNK_BYTES = 1 << 30;
    /** Java arrays stop a little short of Integer.MAX_VALUE. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    // Duplicate keys would silently drop a tensor; trailing garbage means the length is wrong.
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafeTensors(Path file, FileChannel channel, long dataStart,
                        Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Opens {@code file} and validates its header; the tensors are read later by {@link #get}. */
    public static SafeTensors open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return parse(file, channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static SafeTensors parse(Path file, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new SafeTensorsException(file, "file is only " + size
                    + " bytes, too short for the 8-byte header length (truncated?)");
        }
        long n = read(channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n <= 0 || n > MAX_HEADER_BYTES) { // n < 0 is a u64 above 2^63
            throw new SafeTensorsException(file, "header length " + Long.toUnsignedString(n)
                    + " is not between 1 and " + MAX_HEADER_BYTES + " bytes (corrupt or not a safetensors file?)");
        }
        if (n > size - 8) {
            throw new SafeTensorsException(file, "header length " + n + " runs past the end of the file ("
                    + size + " bytes; truncated?)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(read(channel, 8, (int) n).array());
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (CharConversionException e) { // Jackson guessed UTF-16/32 from NUL bytes (issue 19, found by fuzzing)
            throw new SafeTensorsException(file, "header is not valid JSON text: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsException(file, "header is not a JSON object");
        }

        long dataSize = size - 8 - n;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                parseMetadata(file, e.getValue(), metadata);
            } else {
                tensors.put(e.getKey(), parseEntry(file, e.getKey(), e.getValue(), dataSize));
            }
        }
        checkNoOverlap(file, tensors.values());
        return new SafeTensors(file, channel, 8 + n, tensors, metadata);
    }

    private static void parseMetadata(Path file, JsonNode node, Map<String, String> into) throws SafeTensorsException {
        if (!node.isObject()) {
            throw new SafeTensorsException(file, METADATA_KEY + " is not a JSON object");
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafeTensorsException(file, METADATA_KEY + " value for '" + e.getKey()
                        + "' is not a string: " + e.getValue());
            }
            into.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode node, long dataSize)
            throws SafeTensorsException {
        if (!node.isObject()) {
            throw new SafeTensorsException(file, "entry for tensor '" + name + "' is not a JSON object");
        }
        for (String key : (Iterable<String>) node::fieldNames) {
            if (!ENTRY_KEYS.contains(key)) {
                throw new SafeTensorsException(file, "tensor '" + name + "' has unknown key '" + key
                        + "' (expected dtype, shape, data_offsets)");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafeTensorsException(file, "tensor '" + name + "' has no dtype string");
        }
        String dtype = dtypeNode.textValue();
        Integer bits = DTYPE_BITS.get(dtype);
        if (bits == null) {
            throw new SafeTensorsException(file, "tensor '" + name + "' has unknown dtype '" + dtype + "'");
        }
        long[] shape = nonNegativeLongs(file, name, node, "shape");
        long[] offsets = nonNegativeLongs(file, name, node, "data_offsets");
        if (offsets.length != 2) {
            throw new SafeTensorsException(file, "tensor '" + name + "' data_offsets must be [begin, end], got "
                    + Arrays.toString(offsets));
        }
        long begin = offsets[0];
        long end = offsets[1];
        long bytes;
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            long totalBits = Math.multiplyExact(elements, (long) bits);
            if (totalBits % 8 != 0) {
                throw new SafeTensorsException(file, "tensor '" + name + "' of dtype " + dtype + " and shape "
                        + Arrays.toString(shape) + " does not fill a whole number of bytes");
            }
            bytes = totalBits / 8;
        } catch (ArithmeticException e) {
            throw new SafeTensorsException(file, "tensor '" + name + "' shape " + Arrays.toString(shape)
                    + " has too many elements (overflow)");
        }
        if (begin > end) {
            throw new SafeTensorsException(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end
                    + "] have begin > end");
        }
        if (end > dataSize) {
            throw new SafeTensorsException(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end
                    + "] run past the end of the data section (" + dataSize + " bytes; truncated?)");
        }
        if (end - begin != bytes) {
            throw new SafeTensorsException(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end
                    + "] span " + (end - begin) + " bytes but shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + bytes);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] nonNegativeLongs(Path file, String name, JsonNode node, String key)
            throws SafeTensorsException {
        JsonNode array = node.get(key);
        boolean ok = array != null && array.isArray();
        long[] values = ok ? new long[array.size()] : null;
        for (int i = 0; ok && i < values.length; i++) {
            JsonNode v = array.get(i);
            ok = v.isIntegralNumber() && v.canConvertToLong() && v.longValue() >= 0;
            values[i] = ok ? v.longValue() : 0;
        }
        if (!ok) {
            throw new SafeTensorsException(file, "tensor '" + name + "' " + key
                    + " must be an array of non-negative integers, got " + array);
        }
        return values;
    }

    private static void checkNoOverlap(Path file, Iterable<TensorInfo> all) throws SafeTensorsException {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : all) {
            if (t.end() > t.begin()) { // an empty range shares no bytes with anything
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo a = sorted.get(i - 1);
            TensorInfo b = sorted.get(i);
            if (b.begin() < a.end()) {
                throw new SafeTensorsException(file, "tensors '" + a.name() + "' [" + a.begin() + ", " + a.end()
                        + ") and '" + b.name() + "' [" + b.begin() + ", " + b.end() + ") overlap");
            }
        }
    }

    /** Tensor names in file order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** The header entry of {@code name}. */
    public TensorInfo info(String name) throws SafeTensorsException {
        return require(name);
    }

    /** The {@code __metadata__} map; empty if the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Reads tensor {@code name} as a new FLOAT, C-order array (rank 0 for shape []). */
    public INDArray get(String name) throws IOException {
        return get(name, MAP_CHUNK_BYTES);
    }

    /** {@link #get(String)} mapping at most {@code chunkBytes} at a time (small in tests, to cover the seams). */
    INDArray get(String name, int chunkBytes) throws IOException {
        TensorInfo t = require(name);
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
        int width = switch (t.dtype()) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new SafeTensorsException(file, "unsupported dtype " + t.dtype() + " for tensor '"
                    + name + "' (only F32, F16 and BF16 can be read as float)");
        };
        long count = t.elements();
        if (count > MAX_ELEMENTS) {
            throw new SafeTensorsException(file, "tensor '" + name + "' has " + count
                    + " elements, more than one array can hold");
        }
        // Mapping past the end would fault at access time instead of failing here.
        if (dataStart + t.end() > channel.size()) {
            throw new SafeTensorsException(file, "file shrank since it was opened");
        }
        float[] values = new float[(int) count];
        int perChunk = chunkBytes / width;
        for (long done = 0; done < count; done += perChunk) { // long: done + perChunk may pass 2^31
            int len = (int) Math.min(perChunk, count - done);
            ByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY,
                    dataStart + t.begin() + done * width, (long) len * width).order(ByteOrder.LITTLE_ENDIAN);
            decode(t.dtype(), bytes, values, (int) done, len);
        }
        long[] shape = t.shape();
        if (shape.length == 0) {
            return Nd4j.scalar(values[0]);
        }
        return count == 0 ? Nd4j.create(DataType.FLOAT, shape, 'c') : Nd4j.create(values, shape, 'c');
    }

    private static void decode(String dtype, ByteBuffer bytes, float[] out, int off, int len) {
        if (dtype.equals("F32")) {
            bytes.asFloatBuffer().get(out, off, len);
            return;
        }
        ShortBuffer halves = bytes.asShortBuffer();
        boolean bf16 = dtype.equals("BF16");
        for (int i = 0; i < len; i++) {
            short h = halves.get(i);
            out[off + i] = bf16 ? Float.intBitsToFloat(h << 16) : halfToFloat(h);
        }
    }

    private TensorInfo require(String name) throws SafeTensorsException {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            String available = tensors.keySet().stream().limit(10).collect(Collectors.joining(", "));
            if (tensors.size() > 10) {
                available += ", ... (" + (tensors.size() - 10) + " more)";
            }
            throw new SafeTensorsException(file, "no tensor named '" + name + "'; available: ["
                    + available + "]");
        }
        return t;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        channel.close();
    }

    /**
     * Writes {@code tensors} (in map order) to {@code file} as {@code dtype},
     * rounding to nearest even. The file is written under a temporary name in the same directory
     * and renamed into place, so readers never see a half-written file.
     */
    public static void write(Path file, Map<String, INDArray> tensors, DType dtype, Map<String, String> metadata)
            throws IOException {
        int width = dtype.bytes();
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject(METADATA_KEY);
            metadata.forEach((k, v) -> m.put(k, Objects.requireNonNull(v, "metadata value for " + k)));
        }
        long offset = 0;
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException(METADATA_KEY + " is reserved and cannot name a tensor");
            }
            long bytes = Math.multiplyExact(e.getValue().length(), (long) width);
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", dtype.name());
            ArrayNode shape = entry.putArray("shape");
            Arrays.stream(e.getValue().shape()).forEach(shape::add);
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) & ~7; // keeps the data section 8-byte aligned
        if (padded > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("header would be " + padded + " bytes, over the format's limit");
        }
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }

        Path target = file.toAbsolutePath();
        Path tmp = target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(out, head.flip());
                for (INDArray a : tensors.values()) {
                    writeTensor(out, a, dtype, width);
                }
                out.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void writeTensor(FileChannel out, INDArray array, DType dtype, int width) throws IOException {
        long count = array.length();
        if (count == 0) {
            return;
        }
        if (count > MAX_ELEMENTS) {
            throw new IllegalArgumentException("tensor of " + count + " elements is too large to write");
        }
        float[] values = array.castTo(DataType.FLOAT).dup('c').data().asFloat();
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(count, 1 << 20) * width).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; ) {
            chunk.clear();
            if (dtype == DType.F32) {
                FloatBuffer floats = chunk.asFloatBuffer();
                int len = (int) Math.min(floats.capacity(), count - i);
                floats.put(values, i, len);
                chunk.limit(len * width);
                i += len;
            } else {
                boolean bf16 = dtype == DType.BF16;
                while (chunk.hasRemaining() && i < count) {
                    chunk.putShort(bf16 ? floatToBf16(values[i]) : floatToHalf(values[i]));
                    i++;
                }
                chunk.flip();
            }
            writeFully(out, chunk);
        }
    }

    /**
     * The files of the checkpoint in {@code dir}: {@code model.safetensors} if present, else the
     * distinct shards named by the {@code weight_map} of {@code model.safetensors.index.json}.
     */
    public static List<Path> checkpointFiles(Path dir) throws IOException {
        Path single = dir.resolve("model.safetensors");
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        Path index = dir.resolve("model.safetensors.index.json");
        if (!Files.isRegularFile(index)) {
            throw new SafeTensorsException(dir, "no checkpoint here: neither model.safetensors nor "
                    + "model.safetensors.index.json exists");
        }
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException(index, "not valid JSON: " + e.getOriginalMessage(), e);
        } catch (CharConversionException e) {
            throw new SafeTensorsException(index, "not valid JSON text: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw new SafeTensorsException(index, "has no non-empty \"weight_map\" object");
        }
        Set<Path> shards = new LinkedHashSet<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            String shard = e.getValue().isTextual() ? e.getValue().textValue() : "";
            // A shard must sit beside the index; anything else could point the loader anywhere.
            Path name = plainFileName(shard);
            if (name == null || name.isAbsolute() || name.getNameCount() != 1 || shard.equals("..")) {
                throw new SafeTensorsException(index, "weight_map entry for '" + e.getKey()
                        + "' is not a plain file name: " + e.getValue());
            }
            Path path = dir.resolve(name);
            if (!Files.isRegularFile(path)) {
                throw new SafeTensorsException(index, "shard '" + shard + "' (holding '" + e.getKey()
                        + "') is missing from " + dir);
            }
            shards.add(path);
        }
        return List.copyOf(shards);
    }

    /** {@code shard} as a path, or null when it is empty or no path at all (a NUL character: InvalidPathException). */
    private static Path plainFileName(String shard) {
        if (shard.isEmpty()) return null;
        try {
            return Path.of(shard);
        } catch (InvalidPathException e) {
            return null;
        }
    }

    // ---- half-precision conversions (Float.float16ToFloat needs Java 20) ----

    /** IEEE binary16 to float; exact, since every half value is a float. */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) { // inf or NaN; the NaN payload moves up with the mantissa
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) { // zero or subnormal: mant * 2^-24, exact in float
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Float to IEEE binary16, rounding to nearest even; too large becomes inf, too small ±0. */
    static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) { // keep NaN a NaN even when its payload sits in the dropped low bits
            return (short) (sign | 0x7c00 | (mant == 0 ? 0 : 0x200 | (mant >>> 13)));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (e <= 0) { // half subnormal (or zero): shift the full 24-bit significand into place
            if (e < -10) {
                return (short) sign; // below half the smallest subnormal
            }
            int full = mant | 0x800000;
            int shift = 14 - e;
            return (short) (sign | roundShift(full, shift)); // a carry to 0x400 is the smallest normal
        }
        // A carry out of the mantissa bumps the exponent, up to inf: exactly what rounding should do.
        return (short) (sign | (((e << 10) | (mant >>> 13)) + roundBit(mant, 13)));
    }

    /** Float to bfloat16 (the top 16 bits of a float), rounding to nearest even. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40); // stay NaN if the payload was only in the low half
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    private static int roundShift(int value, int shift) {
        return (value >>> shift) + roundBit(value, shift);
    }

    /** 1 if dropping the low {@code shift} bits of {@code value} should round up (nearest, ties to even). */
    private static int roundBit(int value, int shift) {
        int rest = value & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        int kept = value >>> shift;
        return rest > half || (rest == half && (kept & 1) != 0) ? 1 : 0;
    }

    private static ByteBuffer read(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (channel.read(buf, position + buf.position()) < 0) {
                throw new EOFException("unexpected end of file at " + (position + buf.position()));
            }
        }
        return buf.flip();
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }
}
