package io.latteflow.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.arrow.ArrowScorer;
import io.latteflow.arrow.MemorySampler;
import io.latteflow.arrow.ScoreListener;
import io.latteflow.arrow.ScoreResult;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code latte bench-score}: Arrow scoring throughput at batch 1 and batch 16, the scorer's live memory at 1x and 10x
 * the rows, and the process's resident peak, in one run; readable lines on stderr, one JSON object as the last stdout
 * line.
 */
@Command(name = "bench-score", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmark Arrow batch scoring (generate mode): rows/s at batch 1 and 16, the scorer's live memory at 1x and "
                + "10x rows, and the process's resident peak (VmHWM).")
public final class BenchScoreCommand implements Callable<Integer> {
    private static final String[] PROMPTS = {"red apple", "smiling face", "blue car", "a cat", "green tree", "yellow star"};

    @Spec
    CommandSpec spec;

    @Option(names = "--preset", paramLabel = "tiny|small|bench", defaultValue = "small",
            description = "Size of the freshly initialised model (weights do not change the cost). Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--model", paramLabel = "DIR", description = "A trained model directory instead of --preset.")
    Path model;

    @Option(names = "--rows", paramLabel = "N", defaultValue = "48",
            description = "Rows of the throughput runs and of the 1x memory run (10x is 10 N). Default: ${DEFAULT-VALUE}.")
    int rows;

    @Override
    public Integer call() throws IOException {
        if (rows < 16) throw new ParameterException(spec.commandLine(), "--rows must be >= 16, got " + rows);
        PrintWriter err = spec.commandLine().getErr();
        Path work = Files.createTempDirectory("latte-bench-score");
        try (LatteFlow flow = open()) {
            String name = model != null ? model.toString() : "untrained preset " + preset;
            err.printf("bench-score: %s, %d rows, generate mode, %d steps, guidance %s%n", name, rows,
                    flow.config().defaultSteps(), flow.config().defaultCfg());
            Path small = prompts(work.resolve("warm.arrow"), 16), base = prompts(work.resolve("rows.arrow"), rows);
            Path tenfold = prompts(work.resolve("rows10.arrow"), rows * 10);
            run(flow, 1, small, work, null);                            // warm-up: graph building, JIT
            run(flow, 16, small, work, null);
            double one = rate(run(flow, 1, base, work, null)), sixteen = rate(run(flow, 16, base, work, null));
            err.printf("batch 1: %.2f rows/s; batch 16: %.2f rows/s (%.2fx)%n", one, sixteen, sixteen / one);
            double mb1 = peakMb(flow, base, work), mb10 = peakMb(flow, tenfold, work);
            double resident = MemorySampler.residentPeakBytes() / (double) (1 << 20);
            err.printf("scorer's live memory (heap after collection + ND4J native + Arrow): %.1f MB at %d rows, %.1f MB at %d rows%n",
                    mb1, rows, mb10, rows * 10);
            // The figure to provision for is the process's resident peak (issue 19), printed beside the scorer's own.
            err.printf("process resident peak (VmHWM): %.0f MB%n", resident);
            err.flush();
            ObjectNode json = new ObjectMapper().createObjectNode();
            json.put("model", name);
            json.put("rows", rows);
            json.put("rows_per_s_batch1", round(one));
            json.put("rows_per_s_batch16", round(sixteen));
            json.put("batch_ratio", round(sixteen / one));
            json.put("peak_mb_1x", round(mb1));
            json.put("peak_mb_10x", round(mb10));
            json.put("resident_peak_mb", round(resident));
            spec.commandLine().getOut().println(json);
            spec.commandLine().getOut().flush();
        } finally {
            try (Stream<Path> files = Files.walk(work)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
        return 0;
    }

    private LatteFlow open() throws IOException {
        if (model != null) {
            Path dir = ModelOptions.resolve(model);
            if (!Files.isDirectory(dir)) throw new CliError("No model at '" + model + "'");
            return LatteFlow.load(dir);
        }
        return LatteFlow.create(ModelOptions.presetConfig(spec, "--preset", preset), 0);
    }

    private static double rate(ScoreResult r) {
        return r.scoredRows() / r.seconds();
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static ScoreResult run(LatteFlow flow, int batch, Path in, Path work, ScoreListener listener) throws IOException {
        return ArrowScorer.builder(flow).batchSize(batch).listener(listener).build().score(in, work.resolve("out.arrow"));
    }

    private static double peakMb(LatteFlow flow, Path in, Path work) throws IOException {
        System.gc();
        MemorySampler memory = new MemorySampler(4, ScoreListener.NONE);
        ScoreResult r = run(flow, 16, in, work, memory);
        return (memory.peakHeapBytes() + memory.peakNativeBytes() + r.peakArrowBytes()) / (double) (1 << 20);
    }

    /** A prompt table in record batches of 16 rows, as a data team's file would arrive. */
    static Path prompts(Path file, int n) throws IOException {
        Schema schema = new Schema(List.of(Field.nullable("prompt", ArrowType.Utf8.INSTANCE),
                Field.nullable("seed", new ArrowType.Int(64, true))));
        try (BufferAllocator a = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(schema, a);
             FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
             ArrowFileWriter w = new ArrowFileWriter(root, null, ch)) {
            w.start();
            VarCharVector prompt = (VarCharVector) root.getVector("prompt");
            BigIntVector seed = (BigIntVector) root.getVector("seed");
            for (int start = 0; start < n; start += 16) {
                int k = Math.min(16, n - start);
                root.allocateNew();
                for (int i = 0; i < k; i++) {
                    prompt.setSafe(i, PROMPTS[(start + i) % PROMPTS.length].getBytes(StandardCharsets.UTF_8));
                    seed.setSafe(i, start + i);
                }
                root.setRowCount(k);
                w.writeBatch();
            }
            w.end();
        }
        return file;
    }
}
