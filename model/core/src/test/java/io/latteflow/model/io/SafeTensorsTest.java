package io.latteflow.model.io;

import io.latteflow.model.io.DType;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SafeTensorsTest {

    @TempDir
    Path dir;

    private static final float HALF_MIN_SUBNORMAL = 0x1p-24f;
    private static final float HALF_MAX = 65504f;

    /** Values that stress conversion: signed zeros, subnormals, the largest finite values, inf, NaN. */
    private static final float[] SPECIALS = {
        0f, -0f, 1f, -2.5f, HALF_MIN_SUBNORMAL, -3 * HALF_MIN_SUBNORMAL, 0x1p-14f, HALF_MAX,
        Float.MIN_VALUE, Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN
    };

    // ---------------------------------------------------------------- round trips

    @Test
    void f32RoundTripIsExactForEveryRankAndSpecialValues() throws IOException {
        Map<String, INDArray> in = sampleTensors();
        Path file = dir.resolve("f32.safetensors");
        SafeTensors.write(file, in, DType.F32, null);
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(List.copyOf(in.keySet()), List.copyOf(st.names()), "file order is map order");
            for (Map.Entry<String, INDArray> e : in.entrySet()) {
                INDArray out = st.get(e.getKey());
                assertEquals(DataType.FLOAT, out.dataType());
                assertEquals('c', out.ordering());
                assertArrayEquals(e.getValue().shape(), out.shape(), e.getKey());
                assertBitsEqual(floats(e.getValue()), floats(out), e.getKey());
            }
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test
    void f16RoundTripGivesRoundedHalfValuesIncludingSubnormalsOverflowAndNaN() throws IOException {
        Path file = dir.resolve("f16.safetensors");
        SafeTensors.write(file, Map.of("s", Nd4j.createFromArray(SPECIALS)), DType.F16, null);
        float[] expected = {
            0f, -0f, 1f, -2.5f, HALF_MIN_SUBNORMAL, -3 * HALF_MIN_SUBNORMAL, 0x1p-14f, HALF_MAX,
            0f, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN
        };
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals("F16", st.info("s").dtype());
            assertEquals(SPECIALS.length * 2L, st.info("s").end() - st.info("s").begin());
            assertBitsEqual(expected, floats(st.get("s")), "s");
        }
    }

    @Test
    void bf16RoundTripGivesRoundedValuesIncludingSubnormalsOverflowAndNaN() throws IOException {
        Path file = dir.resolve("bf16.safetensors");
        SafeTensors.write(file, Map.of("s", Nd4j.createFromArray(SPECIALS)), DType.BF16, null);
        float[] expected = {
            0f, -0f, 1f, -2.5f, HALF_MIN_SUBNORMAL, -3 * HALF_MIN_SUBNORMAL, 0x1p-14f, 65536f,
            0f, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN
        };
        try (SafeTensors st = SafeTensors.open(file)) {
            assertBitsEqual(expected, floats(st.get("s")), "s");
        }
    }

    @Test
    void halfPrecisionRoundTripsKeepShapesOfEveryRankAndEmptyTensors() throws IOException {
        for (DType dtype : List.of(DType.F16, DType.BF16)) {
            Path file = dir.resolve(dtype + ".safetensors");
            Map<String, INDArray> in = sampleTensors();
            SafeTensors.write(file, in, dtype, Map.of("dtype", dtype.name()));
            try (SafeTensors st = SafeTensors.open(file)) {
                for (Map.Entry<String, INDArray> e : in.entrySet()) {
                    INDArray out = st.get(e.getKey());
                    assertArrayEquals(e.getValue().shape(), out.shape(), dtype + " " + e.getKey());
                    // The sample values are small integers and halves, exact in both formats.
                    assertBitsEqual(floats(e.getValue()), floats(out), dtype + " " + e.getKey());
                }
            }
        }
    }

    @Test
    void halfRoundingIsNearestEvenAtTiesAndJustAboveThem() {
        // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties go to the even 1.
        assertEquals(1f, SafeTensors.halfToFloat(SafeTensors.floatToHalf(1f + 0x1p-11f)));
        assertEquals(1f + 0x1p-9f, SafeTensors.halfToFloat(SafeTensors.floatToHalf(1f + 3 * 0x1p-11f)));
        assertEquals(1f + 0x1p-10f, SafeTensors.halfToFloat(SafeTensors.floatToHalf(1f + 0x1p-11f + 0x1p-20f)));
        // Half the smallest subnormal ties to 0; a hair more rounds up to it.
        assertEquals(0f, SafeTensors.halfToFloat(SafeTensors.floatToHalf(0x1p-25f)));
        assertEquals(0x1p-24f, SafeTensors.halfToFloat(SafeTensors.floatToHalf(0x1.000002p-25f)));
        // 65520 is halfway between 65504 (odd mantissa) and 65536: rounds up, which overflows to inf.
        assertEquals(HALF_MAX, SafeTensors.halfToFloat(SafeTensors.floatToHalf(65519f)));
        assertEquals(Float.POSITIVE_INFINITY, SafeTensors.halfToFloat(SafeTensors.floatToHalf(65520f)));
        // bf16 keeps 8 significant bits: 1 + 2^-8 ties to 1, 1 + 3*2^-8 ties up to 1 + 2^-6.
        assertEquals(1f, Float.intBitsToFloat(SafeTensors.floatToBf16(1f + 0x1p-8f) << 16));
        assertEquals(1f + 0x1p-6f, Float.intBitsToFloat(SafeTensors.floatToBf16(1f + 3 * 0x1p-8f) << 16));
    }

    @Test
    void halfToFloatIsExactForAllFiniteHalvesAndRoundTrips() {
        for (int h = 0; h < 0x10000; h++) {
            float f = SafeTensors.halfToFloat((short) h);
            if (Float.isNaN(f)) {
                assertTrue((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0, Integer.toHexString(h));
                assertTrue(Float.isNaN(SafeTensors.halfToFloat(SafeTensors.floatToHalf(f))));
            } else {
                assertEquals((short) h, SafeTensors.floatToHalf(f), Integer.toHexString(h));
            }
        }
    }

    @Test
    void tensorsMappedInSmallChunksAreReassembledExactly() throws IOException {
        Map<String, INDArray> in = new LinkedHashMap<>();
        in.put("f32", Nd4j.arange(13).castTo(DataType.FLOAT).subi(6).reshape(13));
        in.put("scalar", Nd4j.scalar(7f));
        Path file = dir.resolve("chunks.safetensors");
        for (DType dtype : DType.values()) {
            SafeTensors.write(file, in, dtype, null);
            try (SafeTensors st = SafeTensors.open(file)) {
                for (int chunk : new int[] {4, 8, 12}) { // 4 bytes is a single F32 or two halves per map
                    assertBitsEqual(floats(in.get("f32")), floats(st.get("f32", chunk)), dtype + " chunk " + chunk);
                    assertEquals(7f, st.get("scalar", chunk).getFloat(0), dtype.name());
                }
            }
        }
    }

    @Test
    void tensorPastTheTwoGibMarkIsRead() throws IOException {
        // A sparse file: "pad" claims the first 2 GiB + 4 bytes of data without them taking disk space.
        long padBytes = (1L << 31) + 4;
        byte[] head = file("{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + padBytes + "],\"data_offsets\":[0," + padBytes
                + "]},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + padBytes + "," + (padBytes + 8) + "]}}", 0);
        Path file = dir.resolve("big.safetensors");
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.write(head);
            raf.seek(head.length + padBytes);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).array());
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            assertBitsEqual(new float[] {1.5f, -2f}, floats(st.get("w")), "w");
        }
    }

    @Test
    void metadataRoundTripsInOrder() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("step", "1200");
        meta.put("note", "ünïcode \"quoted\" {braces}");
        Path file = dir.resolve("meta.safetensors");
        SafeTensors.write(file, Map.of("w", Nd4j.ones(DataType.FLOAT, 2)), DType.F32, meta);
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(meta, st.metadata());
            assertEquals(List.copyOf(meta.keySet()), List.copyOf(st.metadata().keySet()));
            assertEquals(List.of("w"), List.copyOf(st.names()));
        }
    }

    @Test
    void writeReadsAnyInputDtypeAndOrderAndPadsHeaderToEightBytes() throws IOException {
        INDArray fOrder = Nd4j.create(new double[] {1, 2, 3, 4, 5, 6}, new long[] {2, 3}, 'f');
        INDArray view = Nd4j.arange(12).castTo(DataType.INT32).reshape(3, 4).get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3), org.nd4j.linalg.indexing.NDArrayIndex.all());
        Map<String, INDArray> in = new LinkedHashMap<>();
        in.put("f_order_double", fOrder);
        in.put("int_view", view);
        Path file = dir.resolve("mixed.safetensors");
        SafeTensors.write(file, in, DType.F32, null);

        byte[] raw = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header length is a multiple of 8");
        assertEquals(8 + n + (6 + 8) * 4, raw.length, "tensors are contiguous after the header");
        try (SafeTensors st = SafeTensors.open(file)) {
            // Column-major data [1..6] is the matrix [[1,3,5],[2,4,6]]; the file holds it row-major.
            assertBitsEqual(new float[] {1, 3, 5, 2, 4, 6}, floats(st.get("f_order_double")), "f order");
            assertBitsEqual(new float[] {4, 5, 6, 7, 8, 9, 10, 11}, floats(st.get("int_view")), "view");
        }
    }

    @Test
    void writeReplacesAnExistingFileAndLeavesNoTempFiles() throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, Map.of("a", Nd4j.ones(DataType.FLOAT, 3)), DType.F32, null);
        SafeTensors.write(file, Map.of("b", Nd4j.zeros(DataType.FLOAT, 2)), DType.BF16, null);
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(List.of("b"), List.copyOf(st.names()));
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void checkpointFilesFindsSingleFileOrDistinctShardsAndReportsMissingOnes() throws IOException {
        SafeTensorsException none = assertThrows(SafeTensorsException.class, () -> SafeTensors.checkpointFiles(dir));
        assertTrue(none.getMessage().contains("neither model.safetensors"), none.getMessage());

        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"metadata": {"total_size": 16},
                 "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
                                "c": "model-00001-of-00002.safetensors"}}""");
        Files.write(dir.resolve("model-00001-of-00002.safetensors"), new byte[0]);
        SafeTensorsException missing = assertThrows(SafeTensorsException.class, () -> SafeTensors.checkpointFiles(dir));
        assertTrue(missing.getMessage().contains("model-00002-of-00002.safetensors"), missing.getMessage());
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());

        Files.write(dir.resolve("model-00002-of-00002.safetensors"), new byte[0]);
        assertEquals(List.of(dir.resolve("model-00001-of-00002.safetensors"),
                dir.resolve("model-00002-of-00002.safetensors")), SafeTensors.checkpointFiles(dir));

        Files.write(dir.resolve("model.safetensors"), new byte[0]);
        assertEquals(List.of(dir.resolve("model.safetensors")), SafeTensors.checkpointFiles(dir));
    }

    @Test
    void checkpointIndexMayNotPointOutsideItsDirectory() throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"../x.safetensors\"}}");
        assertProblem(() -> SafeTensors.checkpointFiles(dir), "not a plain file name");
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void fileShorterThanEightBytesIsRejected() throws IOException {
        assertProblem(bytes(new byte[] {1, 2, 3}), "too short");
        assertProblem(bytes(new byte[0]), "too short");
    }

    @Test
    void headerCutShortIsRejected() throws IOException {
        byte[] whole = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        byte[] cut = java.util.Arrays.copyOf(whole, 20);
        assertProblem(bytes(cut), "runs past the end of the file");
    }

    @Test
    void headerLengthBeyondTheFileOrAbsurdIsRejected() throws IOException {
        assertProblem(bytes(withLength(1000, "{}")), "runs past the end of the file");
        assertProblem(bytes(withLength(0, "")), "header length 0");
        assertProblem(bytes(withLength(-1, "{}")), "header length 18446744073709551615");
        assertProblem(bytes(withLength(SafeTensors.MAX_HEADER_BYTES + 1, "{}")), "is not between 1 and");
    }

    @Test
    void headerThatIsNotJsonOrNotAnObjectIsRejected() throws IOException {
        assertProblem(bytes(file("not json at all", 0)), "not valid JSON");
        assertProblem(bytes(file("{\"a\": {\"dtype\": \"F32\"", 0)), "not valid JSON");
        assertProblem(bytes(file("[1, 2]", 0)), "not a JSON object");
        assertProblem(bytes(file("{} {}", 0)), "not valid JSON");
        assertProblem(bytes(file("{\"__metadata__\": {\"k\": 1}}", 0)), "__metadata__ value for 'k'");
    }

    @Test
    void duplicateTensorNamesAreRejected() throws IOException {
        String entry = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        assertProblem(bytes(file("{\"a\":" + entry + ",\"a\":" + entry + "}", 4)), "Duplicate field 'a'");
    }

    @Test
    void overlappingOffsetsAreRejectedNamingBothTensors() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        SafeTensorsException e = assertProblem(bytes(file(header, 12)), "overlap");
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("'b'"), e.getMessage());
    }

    @Test
    void overlapIsFoundWhateverTheHeaderOrder() throws IOException {
        String header = "{\"late\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[6,10]},"
                + "\"gap\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[2,2]},"
                + "\"early\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        SafeTensorsException e = assertProblem(bytes(file(header, 10)), "overlap");
        assertTrue(e.getMessage().contains("'early'") && e.getMessage().contains("'late'"), e.getMessage());
    }

    @Test
    void offsetsPastTheDataSectionAreRejected() throws IOException {
        assertProblem(bytes(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4)),
                "run past the end of the data section");
        assertProblem(bytes(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8)),
                "begin > end");
        assertProblem(bytes(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 8)),
                "must be [begin, end]");
    }

    @Test
    void offsetsThatDoNotMatchShapeTimesDtypeSizeAreRejected() throws IOException {
        SafeTensorsException e = assertProblem(
                bytes(file("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", 16)), "needs 12");
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
    }

    @Test
    void unknownDtypeIsRejectedAtOpenNamingTensorAndDtype() throws IOException {
        assertProblem(bytes(file("{\"w\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1)),
                "tensor 'w' has unknown dtype 'Q7'");
    }

    @Test
    void knownButUnreadableDtypeOpensAndFailsOnlyWhenRead() throws IOException {
        Path file = bytes(file("{\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}", 12));
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(0f, st.get("w").getFloat(0));
            assertEquals(0, st.get("w").rank());
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> st.get("step"));
            assertTrue(e.getMessage().contains("unsupported dtype I64 for tensor 'step'"), e.getMessage());
        }
    }

    @Test
    void negativeNonIntegerOrOverflowingShapesAreRejected() throws IOException {
        assertProblem(bytes(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4)),
                "shape must be an array of non-negative integers");
        assertProblem(bytes(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4)),
                "shape must be an array of non-negative integers");
        assertProblem(bytes(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                + "\"data_offsets\":[0,4]}}", 4)), "too many elements");
    }

    @Test
    void unknownOrMissingEntryKeysAreRejected() throws IOException {
        assertProblem(bytes(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4)),
                "tensor 'w' has unknown key 'x'");
        assertProblem(bytes(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4)), "has no dtype");
        assertProblem(bytes(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4)), "shape must be");
    }

    @Test
    void missingTensorNameIsReportedWithAvailableNames() throws IOException {
        Map<String, INDArray> in = new LinkedHashMap<>();
        for (int i = 0; i < 12; i++) {
            in.put("t" + i, Nd4j.scalar(i * 1f));
        }
        Path file = dir.resolve("many.safetensors");
        SafeTensors.write(file, in, DType.F32, null);
        try (SafeTensors st = SafeTensors.open(file)) {
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> st.get("nope"));
            assertTrue(e.getMessage().contains("no tensor named 'nope'"), e.getMessage());
            assertTrue(e.getMessage().contains("t0, t1") && e.getMessage().contains("t9, ... (2 more)"), e.getMessage());
            assertFalse(e.getMessage().contains("t10"), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Ranks 0, 1 and 3 plus an empty tensor, all with values exact in F16 and BF16. */
    private static Map<String, INDArray> sampleTensors() {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("scalar", Nd4j.scalar(-1.5f));
        m.put("vector", Nd4j.createFromArray(new float[] {0f, -0f, 0.5f, -3f, 128f}));
        m.put("cube", Nd4j.arange(24).castTo(DataType.FLOAT).subi(12).divi(4).reshape('c', 2, 3, 4));
        m.put("empty", Nd4j.create(DataType.FLOAT, 0, 3));
        return m;
    }

    private static float[] floats(INDArray a) {
        if (a.length() == 0) {
            return new float[0];
        }
        return a.dup('c').data().asFloat();
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            // floatToIntBits tells -0 from 0 and treats every NaN alike.
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    what + "[" + i + "]: expected " + expected[i] + " got " + actual[i]);
        }
    }

    /** A file with the given header (padded to 8 bytes) followed by {@code dataBytes} zero bytes. */
    private static byte[] file(String header, int dataBytes) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(json);
        while (b.position() < 8 + padded) {
            b.put((byte) ' ');
        }
        return b.array();
    }

    /** A declared header length followed by {@code body}, whatever its real size. */
    private static byte[] withLength(long declared, String body) {
        byte[] json = body.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN).putLong(declared).put(json).array();
    }

    private Path bytes(byte[] content) throws IOException {
        Path p = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(p, content);
        return p;
    }

    private interface Action {
        void run() throws IOException;
    }

    private static SafeTensorsException assertProblem(Action action, String expectedText) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, action::run);
        assertTrue(e.getMessage().contains(expectedText),
                "expected message containing \"" + expectedText + "\" but was: " + e.getMessage());
        return e;
    }

    private static SafeTensorsException assertProblem(Path file, String expectedText) {
        SafeTensorsException e = assertProblem(() -> SafeTensors.open(file).close(), expectedText);
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        return e;
    }
}
