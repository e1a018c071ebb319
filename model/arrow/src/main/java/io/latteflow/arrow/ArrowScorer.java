package io.latteflow.arrow;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.TransferPair;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores an Arrow table with a {@link LatteFlow} model, like Spark's {@code predict_batch_udf}: the model is loaded
 * once by the caller, rows are scored in fixed-size batches, and the input is streamed record batch by record batch,
 * so the scorer's own memory (Arrow buffers, one batch of requests and results) stays flat however many rows there
 * are.
 *
 * <p>Input: an Arrow IPC file or stream. {@link ScoreMode#GENERATE} reads {@code prompt} (utf8) and optionally
 * {@code seed} (int64; default the row number), {@code steps} (int32) and {@code guidance} (float32);
 * {@link ScoreMode#ANSWER} reads {@code image} (the Hugging Face image type {@code struct<bytes: binary, path: utf8>},
 * or plain binary; PNG, JPEG, BMP or GIF) and {@code question} (utf8). Other columns pass through.
 *
 * <p>Output: an Arrow IPC file with the input columns plus {@code image} ({@code struct<bytes: binary (PNG),
 * path: utf8>}) or {@code answer} (utf8), {@code error} (utf8, null when the row succeeded) and {@code latency_ms}
 * (float64, the wall time of the model call that scored the row's batch; null for rows rejected before scoring),
 * and optionally a {@link TensorOutput} column. The schema metadata ({@code latte.*} keys) records the model and the
 * settings.
 *
 * <p>Failures: a missing or wrongly typed column, a damaged file or a mismatched resume throw
 * {@link ArrowInputException} before anything is overwritten; a null or bad row (a null prompt, undecodable image
 * bytes, an image declaring more than {@code maxImagePixels} pixels) only sets that row's {@code error}. Finished
 * batches are kept in {@code OUT.part} while the run is going; {@code score(in, out, true)} continues an interrupted
 * run from there, and the output file appears atomically at the end.
 *
 * <pre>{@code
 * try (LatteFlow flow = LatteFlow.load(Path.of("models/latte-emoji"))) {
 *     ArrowScorer scorer = ArrowScorer.builder(flow).mode(ScoreMode.GENERATE).batchSize(16)
 *             .modelName("models/latte-emoji").build();
 *     ScoreResult r = scorer.score(Path.of("prompts.arrow"), Path.of("images.arrow"));
 *     System.out.println(r.rows() + " rows, " + r.failedRows() + " failed");
 * }
 * }</pre>
 *
 * One scorer may be used for many files, one call at a time.
 */
public final class ArrowScorer {
    /** The default limit on an input image's declared width x height. */
    public static final long DEFAULT_MAX_IMAGE_PIXELS = 4096L * 4096L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ArrowType FLOAT64 = new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);

    private final LatteFlow flow;
    private final ScoreMode mode;
    private final int batchSize;
    private final String modelName;
    private final TensorOutput tensor;
    private final int maxNewTokens;
    private final long maxImagePixels;
    private final ScoreListener listener;

    private ArrowScorer(Builder b) {
        this.flow = b.flow;
        this.mode = b.mode;
        this.batchSize = b.batchSize;
        this.modelName = b.modelName;
        this.tensor = b.tensor;
        this.maxNewTokens = b.maxNewTokens;
        this.maxImagePixels = b.maxImagePixels;
        this.listener = b.listener;
    }

    /** A builder with defaults: generate mode, batch 16, no tensor column, 16 answer tokens. */
    public static Builder builder(LatteFlow flow) {
        return new Builder(flow);
    }

    /** The input columns a mode reads, as text (used in error messages and help). */
    public static String expectedSchema(ScoreMode mode) {
        return RowReader.expectedSchema(mode);
    }

    /** The file holding finished batches of an unfinished run of {@code output}. */
    public static Path partFile(Path output) {
        return PartFile.partOf(output);
    }

    /** True when an interrupted run of {@code output} can be resumed. */
    public static boolean canResume(Path output) {
        return PartFile.unfinished(output);
    }

    /** Scores {@code input} into {@code output} from the start (an unfinished earlier run of it is discarded). */
    public ScoreResult score(Path input, Path output) throws IOException {
        return score(input, output, false);
    }

    /**
     * Scores {@code input} into {@code output}. With {@code resume}, an interrupted run of the same input, model and
     * settings continues after its last finished batch; when there is nothing to resume and {@code output} exists,
     * the run is already complete and nothing is scored again.
     */
    public ScoreResult score(Path input, Path output, boolean resume) throws IOException {
        long start = System.nanoTime();
        if (input.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize())) {
            throw new ArrowInputException("Input and output are the same file '" + input + "'");
        }
        if (resume && !PartFile.unfinished(output) && Files.exists(output)) {
            try (BufferAllocator allocator = new RootAllocator(); InputTable done = InputTable.open(output, allocator)) {
                long rows = done.countRows();
                return new ScoreResult(output, rows, 0, rows, 0, 0, (System.nanoTime() - start) / 1e9, 0);
            }
        }
        try (BufferAllocator allocator = new RootAllocator();
             InputTable in = InputTable.open(input, allocator)) {
            Schema inSchema = in.schema();
            RowReader reader = RowReader.forMode(mode, inSchema, flow::readableImage, maxImagePixels, maxNewTokens);
            Schema outSchema = outputSchema(inSchema, input);
            long total = in.countRows();
            String fingerprint = fingerprint(input, inSchema);
            long[] counts = new long[3];            // scored rows, failed rows, batches (this call)
            long resumed;
            try (PartFile part = resume && PartFile.unfinished(output) ? PartFile.resume(output, fingerprint)
                    : PartFile.create(output, fingerprint, outSchema);
                 VectorSchemaRoot out = VectorSchemaRoot.create(outSchema, allocator)) {
                resumed = part.rows();
                listener.started(total, resumed);
                run(in, reader, out, part, resumed, counts);
                part.finish(outSchema, allocator);
            }
            long peak = allocator.getPeakMemoryAllocation();
            double seconds = (System.nanoTime() - start) / 1e9;
            return new ScoreResult(output, resumed + counts[0], counts[0], resumed, counts[1], counts[2], seconds, peak);
        }
    }

    private void run(InputTable in, RowReader reader, VectorSchemaRoot out, PartFile part, long skip, long[] counts)
            throws IOException {
        VectorSchemaRoot src = in.root();
        reader.bind(src);
        int inputColumns = src.getFieldVectors().size();
        List<TransferPair> copies = new ArrayList<>();
        for (int c = 0; c < inputColumns; c++) copies.add(src.getVector(c).makeTransferPair(out.getVector(c)));
        Batch batch = new Batch(out, inputColumns);
        long row = 0;
        while (in.next(row)) {
            int n = src.getRowCount();
            if (row + n <= skip) {
                row += n;
                continue;
            }
            for (int i = 0; i < n; i++, row++) {
                if (row < skip) continue;
                int at = batch.size;
                if (at == 0) out.allocateNew();
                for (TransferPair copy : copies) copy.copyValueSafe(i, at);
                batch.add(row, reader.read(i, row));
                if (batch.size == batchSize) flush(batch, part, counts);
            }
        }
        if (batch.size > 0) flush(batch, part, counts);
    }

    /** Rows gathered for one model call; the input columns are already copied into the output root. */
    private static final class Batch {
        final VectorSchemaRoot out;
        final int inputColumns;
        final List<Long> rows = new ArrayList<>();
        final List<RowReader.Row> requests = new ArrayList<>();
        int size;

        Batch(VectorSchemaRoot out, int inputColumns) {
            this.out = out;
            this.inputColumns = inputColumns;
        }

        void add(long row, RowReader.Row request) {
            rows.add(row);
            requests.add(request);
            size++;
        }

        void clear() {
            rows.clear();
            requests.clear();
            size = 0;
        }
    }

    private void flush(Batch batch, PartFile part, long[] counts) throws IOException {
        int n = batch.size;
        Object[] results = new Object[n];
        String[] errors = new String[n];
        double[] latency = new double[n];
        java.util.Arrays.fill(latency, Double.NaN);
        List<Integer> ok = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RowReader.Row r = batch.requests.get(i);
            if (r.error() != null) errors[i] = r.error();
            else ok.add(i);
        }
        long t0 = System.nanoTime();
        score(batch, ok, results, errors, latency);
        double millis = (System.nanoTime() - t0) / 1e6;
        int failed = 0;
        for (String e : errors) if (e != null) failed++;
        write(batch, results, errors, latency);
        part.append(batch.out);
        counts[0] += n;
        counts[1] += failed;
        counts[2]++;
        batch.clear();
        listener.batchWritten(part.rows(), n, failed, millis);
    }

    /** Runs the model on rows {@code ok}; when the batch call fails, each row is retried alone to find the bad one. */
    private void score(Batch batch, List<Integer> ok, Object[] results, String[] errors, double[] latency) {
        if (ok.isEmpty()) return;
        long t0 = System.nanoTime();
        try {
            List<?> got = call(batch, ok);
            double ms = (System.nanoTime() - t0) / 1e6;
            for (int k = 0; k < ok.size(); k++) {
                results[ok.get(k)] = got.get(k);
                latency[ok.get(k)] = ms;
            }
        } catch (RuntimeException e) {
            if (ok.size() == 1) {
                errors[ok.get(0)] = "model failed: " + InputTable.describe(e);
                return;
            }
            for (int i : ok) score(batch, List.of(i), results, errors, latency);
        }
    }

    private List<?> call(Batch batch, List<Integer> rows) {
        if (mode == ScoreMode.GENERATE) {
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i : rows) requests.add((GenerationRequest) batch.requests.get(i).request());
            return flow.generate(requests);
        }
        List<VqaRequest> requests = new ArrayList<>();
        for (int i : rows) requests.add((VqaRequest) batch.requests.get(i).request());
        return flow.answer(requests);
    }

    private void write(Batch batch, Object[] results, String[] errors, double[] latency) {
        VectorSchemaRoot out = batch.out;
        int c = batch.inputColumns;
        FieldVector result = out.getVector(c);
        VarCharVector error = (VarCharVector) out.getVector(c + 1);
        Float8Vector ms = (Float8Vector) out.getVector(c + 2);
        FieldVector extra = tensor == TensorOutput.NONE ? null : out.getVector(c + 3);
        for (int i = 0; i < batch.size; i++) {
            if (errors[i] != null) {
                result.setNull(i);
                error.setSafe(i, errors[i].getBytes(StandardCharsets.UTF_8));
                if (extra != null) extra.setNull(i);
            } else if (mode == ScoreMode.GENERATE) {
                GeneratedImage img = (GeneratedImage) results[i];
                StructVector image = (StructVector) result;
                image.setIndexDefined(i);
                ((VarBinaryVector) image.getChild("bytes")).setSafe(i, img.png());
                ((VarCharVector) image.getChild("path")).setSafe(i,
                        String.format("row-%08d.png", batch.rows.get(i)).getBytes(StandardCharsets.UTF_8));
                if (extra != null) {
                    INDArray a = tensor == TensorOutput.LATENTS ? img.latents() : img.pixels();
                    ((FixedShapeTensorVector) extra).setSafe(i, a.dup('c').data().asFloat());
                }
            } else {
                ((VarCharVector) result).setSafe(i, ((String) results[i]).getBytes(StandardCharsets.UTF_8));
            }
            if (Double.isNaN(latency[i])) ms.setNull(i);
            else ms.setSafe(i, latency[i]);
        }
        out.setRowCount(batch.size);
    }

    private Schema outputSchema(Schema in, Path input) throws ArrowInputException {
        List<String> added = new ArrayList<>(List.of(mode == ScoreMode.GENERATE ? "image" : "answer", "error", "latency_ms"));
        if (tensor != TensorOutput.NONE) added.add(tensor.columnName());
        for (Field f : in.getFields()) {
            if (added.contains(f.getName())) {
                throw new ArrowInputException("Input already has a column '" + f.getName() + "', which the output adds ("
                        + String.join(", ", added) + "); rename or drop it");
            }
        }
        List<Field> fields = new ArrayList<>(in.getFields());
        if (mode == ScoreMode.GENERATE) {
            fields.add(new Field("image", FieldType.nullable(ArrowType.Struct.INSTANCE), List.of(
                    Field.nullable("bytes", ArrowType.Binary.INSTANCE), Field.nullable("path", ArrowType.Utf8.INSTANCE))));
        } else {
            fields.add(Field.nullable("answer", ArrowType.Utf8.INSTANCE));
        }
        fields.add(Field.nullable("error", ArrowType.Utf8.INSTANCE));
        fields.add(Field.nullable("latency_ms", FLOAT64));
        LatteConfig c = flow.config();
        if (tensor == TensorOutput.LATENTS) {
            fields.add(FixedShapeTensorType.field("latents", new long[]{c.latentTokens(), c.latentDim()}));
        } else if (tensor == TensorOutput.PIXELS) {
            fields.add(FixedShapeTensorType.field("pixels", new long[]{3, c.genImageSize(), c.genImageSize()}));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        if (in.getCustomMetadata() != null) meta.putAll(in.getCustomMetadata());
        meta.putAll(settings(input));
        return new Schema(fields, meta);
    }

    /** The {@code latte.*} schema metadata: everything that decides the output, so a table documents its origin. */
    private Map<String, String> settings(Path input) {
        LatteConfig c = flow.config();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("latte.mode", mode.name().toLowerCase());
        m.put("latte.model", modelName);
        m.put("latte.batch_size", Integer.toString(batchSize));
        m.put("latte.input", input.getFileName().toString());
        if (mode == ScoreMode.GENERATE) {
            m.put("latte.default_steps", Integer.toString(c.defaultSteps()));
            m.put("latte.default_guidance", Double.toString(c.defaultCfg()));
            m.put("latte.default_seed", "row number");
            m.put("latte.tensor", tensor.name().toLowerCase());
        } else {
            m.put("latte.max_new_tokens", Integer.toString(maxNewTokens));
            m.put("latte.decoding", "greedy");
            m.put("latte.max_image_pixels", Long.toString(maxImagePixels));
        }
        try {
            m.put("latte.config", JSON.writeValueAsString(c));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("LatteConfig is not serialisable", e);
        }
        m.put("latte.scorer", "io.latteflow.arrow.ArrowScorer 0.1.0");
        return m;
    }

    /** One line per fact that must match for a resume to be safe; the first differing line explains a refusal. */
    private String fingerprint(Path input, Schema inSchema) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append("input ").append(input.toAbsolutePath().normalize()).append('\n');
        s.append("input size ").append(Files.size(input)).append(" bytes, modified ").append(Files.getLastModifiedTime(input)).append('\n');
        s.append("input columns ").append(RowReader.describe(inSchema)).append('\n');
        settings(input).forEach((k, v) -> s.append(k).append(' ').append(v).append('\n'));
        return s.toString();
    }

    /**
     * Settings of an {@link ArrowScorer}.
     *
     * <pre>{@code
     * ArrowScorer s = ArrowScorer.builder(flow).mode(ScoreMode.ANSWER).batchSize(8).maxNewTokens(12).build();
     * }</pre>
     */
    public static final class Builder {
        private final LatteFlow flow;
        private ScoreMode mode = ScoreMode.GENERATE;
        private int batchSize = io.latteflow.model.RequestLimits.DEFAULT_BATCH_SIZE;
        private String modelName;
        private TensorOutput tensor = TensorOutput.NONE;
        private int maxNewTokens = 16;
        private long maxImagePixels = DEFAULT_MAX_IMAGE_PIXELS;
        private ScoreListener listener = ScoreListener.NONE;

        private Builder(LatteFlow flow) {
            if (flow == null) throw new IllegalArgumentException("flow must not be null");
            this.flow = flow;
        }

        public Builder mode(ScoreMode m) {
            if (m == null) throw new IllegalArgumentException("mode must not be null");
            mode = m;
            return this;
        }

        /** Rows per model call (>= 1). Larger batches amortise the per-call cost; memory grows with it. */
        public Builder batchSize(int n) {
            if (n < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + n);
            batchSize = n;
            return this;
        }

        /** How the output's metadata names the model (e.g. its directory); defaults to a description of its size. */
        public Builder modelName(String name) {
            modelName = name;
            return this;
        }

        public Builder tensor(TensorOutput t) {
            if (t == null) throw new IllegalArgumentException("tensor must not be null");
            tensor = t;
            return this;
        }

        /** Longest answer in tokens in VQA mode (greedy decoding), at most the core's limit (256). */
        public Builder maxNewTokens(int n) {
            int max = io.latteflow.model.RequestLimits.DEFAULTS.maxNewTokens();
            if (n < 1 || n > max) throw new IllegalArgumentException("maxNewTokens must be in [1, " + max + "], got " + n);
            maxNewTokens = n;
            return this;
        }

        /** Images declaring more pixels than this are rejected (row error) before decoding. */
        public Builder maxImagePixels(long n) {
            if (n < 1) throw new IllegalArgumentException("maxImagePixels must be >= 1, got " + n);
            maxImagePixels = n;
            return this;
        }

        public Builder listener(ScoreListener l) {
            listener = l == null ? ScoreListener.NONE : l;
            return this;
        }

        public ArrowScorer build() {
            if (tensor != TensorOutput.NONE && mode != ScoreMode.GENERATE) {
                throw new IllegalArgumentException("a tensor column (" + tensor + ") is only produced in generate mode");
            }
            if (modelName == null) {
                LatteConfig c = flow.config();
                modelName = String.format("%s L=%d d=%d K=%d (unnamed)", c.variant(), c.numLayers(), c.hiddenSize(), c.groups());
            }
            return new ArrowScorer(this);
        }
    }
}
