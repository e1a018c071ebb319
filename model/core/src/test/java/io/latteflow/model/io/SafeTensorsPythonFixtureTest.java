package io.latteflow.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Checks this implementation against a file written by the official Python safetensors package
 * (see src/test/python/make_safetensors_fixture.py, which also wrote the expected values).
 */
class SafeTensorsPythonFixtureTest {

    private static Path fixture;
    private static JsonNode expected;

    @BeforeAll
    static void load() throws IOException, URISyntaxException {
        fixture = Path.of(SafeTensorsPythonFixtureTest.class.getResource("/fixtures/python-written.safetensors").toURI());
        expected = new ObjectMapper().readTree(
                SafeTensorsPythonFixtureTest.class.getResource("/fixtures/python-written.expected.json"));
    }

    @Test
    void readsEveryPythonWrittenFloatTensorExactly() throws IOException {
        int checked = 0;
        try (SafeTensors st = SafeTensors.open(fixture)) {
            for (Map.Entry<String, JsonNode> e : expected.properties()) {
                if (e.getKey().equals("__metadata__") || !e.getValue().has("values")) {
                    continue;
                }
                JsonNode want = e.getValue();
                INDArray got = st.get(e.getKey());
                assertEquals(want.get("dtype").asText(), st.info(e.getKey()).dtype(), e.getKey());
                assertArrayEquals(longs(want.get("shape")), got.shape(), e.getKey());
                assertBitsEqual(floats(want.get("values")), flat(got), e.getKey());
                checked++;
            }
        }
        assertTrue(checked >= 5, "fixture holds F32 and F16 tensors (and BF16 when ml_dtypes was there)");
    }

    @Test
    void listsAllTensorsAndMetadataAndRefusesToReadTheIntegerOne() throws IOException {
        try (SafeTensors st = SafeTensors.open(fixture)) {
            Set<String> names = new HashSet<>();
            expected.fieldNames().forEachRemaining(names::add);
            names.remove("__metadata__");
            assertEquals(names, Set.copyOf(st.names()));

            Map<String, String> meta = new ObjectMapper().convertValue(expected.get("__metadata__"), new TypeReference<>() { });
            assertEquals(meta, st.metadata());

            assertArrayEquals(new long[] {1}, st.info("i64_step").shape());
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> st.get("i64_step"));
            assertTrue(e.getMessage().contains("unsupported dtype I64 for tensor 'i64_step'"), e.getMessage());
        }
    }

    /** Our float -> F16/BF16 rounding must agree with numpy's and ml_dtypes', ties and overflow included. */
    @Test
    void javaWriterRoundsHalfPrecisionLikeNumpyAndMlDtypes(@TempDir Path dir) throws IOException {
        int checked = 0;
        for (Map.Entry<String, JsonNode> e : expected.properties()) {
            JsonNode want = e.getValue();
            if (!want.has("source")) {
                continue;
            }
            String dtype = want.get("dtype").asText();
            Path file = dir.resolve(e.getKey() + ".safetensors");
            SafeTensors.write(file, Map.of("t", Nd4j.createFromArray(floats(want.get("source")))), DType.valueOf(dtype), null);
            try (SafeTensors st = SafeTensors.open(file)) {
                assertBitsEqual(floats(want.get("values")), flat(st.get("t")), e.getKey());
            }
            checked++;
        }
        assertTrue(checked >= 2, "fixture holds F16 tensors with their float32 sources");
    }

    private static float[] floats(JsonNode list) {
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = list.get(i);
            out[i] = v.isTextual() ? switch (v.asText()) {
                case "nan" -> Float.NaN;
                case "inf" -> Float.POSITIVE_INFINITY;
                case "-inf" -> Float.NEGATIVE_INFINITY;
                default -> throw new IllegalArgumentException(v.asText());
            } : (float) v.doubleValue(); // exact: every expected value is a float
        }
        return out;
    }

    private static long[] longs(JsonNode list) {
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i).asLong();
        }
        return out;
    }

    private static float[] flat(INDArray a) {
        return a.length() == 0 ? new float[0] : a.dup('c').data().asFloat();
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    what + "[" + i + "]: expected " + expected[i] + " got " + actual[i]);
        }
    }
}
