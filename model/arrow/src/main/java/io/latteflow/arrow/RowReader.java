package io.latteflow.arrow;

import io.latteflow.model.GenerationRequest;
import io.latteflow.model.ImageBytes;
import io.latteflow.model.RequestLimits;
import io.latteflow.model.Images;
import io.latteflow.model.VqaRequest;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FloatingPointVector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

import java.awt.image.BufferedImage;
import java.util.function.UnaryOperator;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/**
 * Checks the input schema for a mode and turns input rows into model requests. A row that cannot become a request
 * yields its error text instead; only a schema problem throws.
 */
abstract class RowReader {
    /** One row's request, or the reason it has none. */
    record Row(Object request, String error) {
        static Row ok(Object request) {
            return new Row(request, null);
        }

        static Row bad(String error) {
            return new Row(null, error);
        }
    }

    /** Binds to the vectors of {@code root}, which the input reader refills in place for every record batch. */
    abstract void bind(VectorSchemaRoot root);

    /**
     * The request of row {@code index} of the current record batch; {@code globalRow} counts from the first input row.
     * A cell Arrow cannot read (a child vector shorter than its struct, offsets that its checks let through: issue 19,
     * found by fuzzing, {@code IndexOutOfBoundsException} from {@code VarBinaryVector.get}) is this row's error.
     */
    final Row read(int index, long globalRow) {
        try {
            return cells(index, globalRow);
        } catch (RuntimeException damaged) {
            return Row.bad("row " + globalRow + " is damaged: " + InputTable.describe(damaged));
        }
    }

    abstract Row cells(int index, long globalRow);

    static String expectedSchema(ScoreMode mode) {
        return mode == ScoreMode.GENERATE
                ? "prompt: utf8 (required), seed: int64 (optional), steps: int32 (optional), guidance: float32 (optional)"
                : "image: struct<bytes: binary, path: utf8> (the Hugging Face image type) or binary, question: utf8";
    }

    static RowReader forMode(ScoreMode mode, Schema schema, UnaryOperator<BufferedImage> readable, long maxImagePixels, int maxNewTokens)
            throws ArrowInputException {
        for (Field f : schema.getFields()) {
            if (f.getDictionary() != null) {
                throw new ArrowInputException("Column '" + f.getName() + "' is dictionary-encoded, which the scorer does not "
                        + "pass through; decode it first (pyarrow: table.column(i).dictionary_decode(), pandas: "
                        + "astype(str))");
            }
        }
        if (mode == ScoreMode.GENERATE) {
            require(schema, mode, "prompt", true, RowReader::isText, "utf8");
            require(schema, mode, "seed", false, t -> t instanceof ArrowType.Int i && i.getIsSigned(), "int64");
            require(schema, mode, "steps", false, t -> t instanceof ArrowType.Int i && i.getIsSigned(), "int32");
            require(schema, mode, "guidance", false, t -> t instanceof ArrowType.FloatingPoint, "float32");
            return new Generate();
        }
        Field image = require(schema, mode, "image", true, t -> isBinary(t) || t instanceof ArrowType.Struct,
                "struct<bytes: binary, path: utf8> or binary");
        if (image.getType() instanceof ArrowType.Struct) {
            Field bytes = image.getChildren().stream().filter(c -> c.getName().equals("bytes")).findFirst().orElse(null);
            if (bytes == null || !isBinary(bytes.getType())) {
                throw new ArrowInputException("Column 'image' is " + typeName(image) + ", expected struct<bytes: binary, path: utf8> "
                        + "or binary; expected schema for vqa mode: " + expectedSchema(mode) + "; the input has: " + describe(schema));
            }
        }
        require(schema, mode, "question", true, RowReader::isText, "utf8");
        return new Vqa(readable, maxImagePixels, maxNewTokens);
    }

    private interface TypeTest {
        boolean ok(ArrowType t);
    }

    private static Field require(Schema schema, ScoreMode mode, String name, boolean required, TypeTest test, String expected)
            throws ArrowInputException {
        Field f = schema.getFields().stream().filter(x -> x.getName().equals(name)).findFirst().orElse(null);
        String tail = "; expected schema for " + mode.name().toLowerCase() + " mode: " + expectedSchema(mode)
                + "; the input has: " + describe(schema);
        if (f == null) {
            if (required) throw new ArrowInputException("Input has no column '" + name + "' (" + expected + ")" + tail);
            return null;
        }
        if (!test.ok(f.getType())) {
            throw new ArrowInputException("Column '" + name + "' is " + typeName(f) + ", expected " + expected + tail);
        }
        return f;
    }

    static String describe(Schema schema) {
        if (schema.getFields().isEmpty()) return "(no columns)";
        return schema.getFields().stream().map(f -> f.getName() + ": " + typeName(f)).collect(Collectors.joining(", "));
    }

    static String typeName(Field f) {
        ArrowType t = f.getType();
        if (t instanceof ArrowType.Struct) {
            return "struct<" + f.getChildren().stream().map(c -> c.getName() + ": " + typeName(c)).collect(Collectors.joining(", ")) + ">";
        }
        if (t instanceof ArrowType.Int i) return (i.getIsSigned() ? "int" : "uint") + i.getBitWidth();
        if (t instanceof ArrowType.FloatingPoint fp) {
            return switch (fp.getPrecision()) {
                case HALF -> "float16";
                case SINGLE -> "float32";
                case DOUBLE -> "float64";
            };
        }
        if (t instanceof ArrowType.Utf8) return "utf8";
        if (t instanceof ArrowType.LargeUtf8) return "large_utf8";
        if (t instanceof ArrowType.Binary) return "binary";
        if (t instanceof ArrowType.LargeBinary) return "large_binary";
        return t.toString().toLowerCase();
    }

    private static boolean isText(ArrowType t) {
        return t instanceof ArrowType.Utf8 || t instanceof ArrowType.LargeUtf8;
    }

    private static boolean isBinary(ArrowType t) {
        return t instanceof ArrowType.Binary || t instanceof ArrowType.LargeBinary;
    }

    /** Utf8 or large_utf8 cell as a string, null for a null cell. */
    static String text(FieldVector v, int i) {
        if (v.isNull(i)) return null;
        byte[] b = v instanceof VarCharVector s ? s.get(i) : ((LargeVarCharVector) v).get(i);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] binary(FieldVector v, int i) {
        if (v.isNull(i)) return null;
        return v instanceof VarBinaryVector b ? b.get(i) : ((LargeVarBinaryVector) v).get(i);
    }

    private static FieldVector optional(VectorSchemaRoot root, String name) {
        return root.getSchema().getFields().stream().anyMatch(f -> f.getName().equals(name)) ? root.getVector(name) : null;
    }

    static final class Generate extends RowReader {
        private FieldVector prompt, seed, steps, guidance;

        @Override
        void bind(VectorSchemaRoot root) {
            prompt = root.getVector("prompt");
            seed = optional(root, "seed");
            steps = optional(root, "steps");
            guidance = optional(root, "guidance");
        }

        @Override
        Row cells(int i, long globalRow) {
            String p = text(prompt, i);
            if (p == null) return Row.bad("prompt is null");
            // A row without a seed gets its row number, so reruns and resumed runs draw the same image.
            long s = seed == null || seed.isNull(i) ? globalRow : ((BaseIntVector) seed).getValueAsLong(i);
            Long n = steps == null || steps.isNull(i) ? null : ((BaseIntVector) steps).getValueAsLong(i);
            Double g = guidance == null || guidance.isNull(i) ? null : ((FloatingPointVector) guidance).getValueAsDouble(i);
            // The core's limits and words (issue 17); a step count beyond int is beyond any limit.
            String why = RequestLimits.DEFAULTS.generationRefusal(p, n == null ? null : (int) Math.max(Integer.MIN_VALUE,
                    Math.min(Integer.MAX_VALUE, n)), g);
            if (why != null) return Row.bad(why);
            GenerationRequest r = GenerationRequest.of(p).withSeed(s);
            if (n != null) r = r.withSteps(n.intValue());
            if (g != null) r = r.withGuidance(g);
            return Row.ok(r);
        }
    }

    static final class Vqa extends RowReader {
        private final UnaryOperator<BufferedImage> readable;
        private final long maxImagePixels;
        private final int maxNewTokens;
        private FieldVector bytes, question;
        private StructVector struct;

        /** @param readable the image as the model reads it ({@code LatteFlow::readableImage}) */
        Vqa(UnaryOperator<BufferedImage> readable, long maxImagePixels, int maxNewTokens) {
            this.readable = readable;
            this.maxImagePixels = maxImagePixels;
            this.maxNewTokens = maxNewTokens;
        }

        @Override
        void bind(VectorSchemaRoot root) {
            FieldVector image = root.getVector("image");
            if (image instanceof StructVector s) {
                struct = s;
                bytes = (FieldVector) s.getChild("bytes");
            } else {
                struct = null;
                bytes = image;
            }
            question = root.getVector("question");
        }

        @Override
        Row cells(int i, long globalRow) {
            String q = text(question, i);
            if (q == null) return Row.bad("question is null");
            String why = RequestLimits.DEFAULTS.questionRefusal(q);       // the core's limits and words, as for prompts
            if (why != null) return Row.bad(why);
            if (struct != null && struct.isNull(i)) return Row.bad("image is null");
            byte[] b = binary(bytes, i);
            if (b == null) {
                return Row.bad(struct != null ? "image has no bytes (images stored only as a path are not read; embed the bytes)"
                        : "image is null");
            }
            BufferedImage img;
            try {
                img = ImageBytes.decode(b, maxImagePixels);
            } catch (ImageBytes.BadImage e) {
                return Row.bad(e.getMessage());
            }
            return Row.ok(VqaRequest.of(Images.toArray(readable.apply(img)), q).withMaxNewTokens(maxNewTokens));
        }
    }
}
