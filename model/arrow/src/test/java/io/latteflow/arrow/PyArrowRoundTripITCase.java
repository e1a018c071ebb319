package io.latteflow.arrow;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real client: pyarrow (in a venv under target/, installed with pip) writes the inputs with
 * examples/batch/score_with_pyarrow.py, the scorer scores them, and the same script reads the outputs back with
 * pyarrow and pandas and checks every row. Skipped only when no python3 with a working venv module exists.
 */
class PyArrowRoundTripITCase {
    static final Path SCRIPT = Path.of("..", "..", "examples", "batch", "score_with_pyarrow.py").toAbsolutePath().normalize();
    static final Path VENV = Path.of("target", "pyarrow-venv").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    void pyarrowWritesInputsAndReadsEveryScoredRowBack() throws Exception {
        Path python = venvPython();
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 3)) {
            Path prompts = dir.resolve("prompts.arrow"), images = dir.resolve("images.arrow");
            run(python, "write-prompts", prompts.toString(), "--rows", "10");
            ArrowScorer.builder(flow).batchSize(4).tensor(TensorOutput.LATENTS).modelName("tiny").build().score(prompts, images);
            String out = run(python, "check", images.toString(), "--input", prompts.toString(), "--mode", "generate");
            assertTrue(out.contains("checked 10 rows"), out);

            Path stream = dir.resolve("prompts.arrows"), fromStream = dir.resolve("from-stream.arrow");
            run(python, "write-prompts", stream.toString(), "--stream", "--rows", "7");
            ArrowScorer.builder(flow).batchSize(3).build().score(stream, fromStream);
            out = run(python, "check", fromStream.toString(), "--input", stream.toString(), "--mode", "generate");
            assertTrue(out.contains("checked 7 rows"), out);

            Path vqa = dir.resolve("vqa.arrows"), answers = dir.resolve("answers.arrow");
            run(python, "write-vqa", vqa.toString(), "--stream");
            ScoreResult r = ArrowScorer.builder(flow).mode(ScoreMode.VQA).batchSize(4).maxNewTokens(4).build().score(vqa, answers);
            assertEquals(4, r.failedRows());
            out = run(python, "check", answers.toString(), "--input", vqa.toString(), "--mode", "vqa");
            assertTrue(out.contains("checked 6 rows"), out);
        }
    }

    /** The venv's python with pyarrow and pandas, created on first use and reused while it imports them. */
    static synchronized Path venvPython() throws Exception {
        Path python = VENV.resolve("bin").resolve("python");
        if (Files.isExecutable(python) && exec(List.of(python.toString(), "-c", "import pyarrow, pandas"), 60).code == 0) return python;
        Result version = exec(List.of("python3", "--version"), 30);
        Assumptions.assumeTrue(version.code == 0, "python3 is not installed: the pyarrow round trip needs it (" + version.out + ")");
        Result venv = exec(List.of("python3", "-m", "venv", "--clear", VENV.toString()), 120);
        Assumptions.assumeTrue(venv.code == 0, "python3 cannot create a venv (install python3-venv): " + venv.out);
        List<String> pip = new ArrayList<>(List.of(python.toString(), "-m", "pip", "install", "-q", "--disable-pip-version-check"));
        pip.addAll(indexOptions());
        pip.addAll(List.of("pyarrow", "pandas"));
        Result installed = exec(pip, 600);
        assertEquals(0, installed.code, "pip could not install pyarrow and pandas: " + installed.out);
        return python;
    }

    /**
     * pip's configured mirrors (pip config: global.extra-index-url), the first as the index and the rest as extra
     * indexes, so pip never waits for an unreachable PyPI; none configured means pip's defaults.
     */
    static List<String> indexOptions() throws Exception {
        Result mirrors = exec(List.of("python3", "-m", "pip", "config", "get", "global.extra-index-url"), 60);
        List<String> urls = mirrors.code == 0 ? Arrays.stream(mirrors.out.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList() : List.of();
        if (urls.isEmpty()) return List.of();
        List<String> options = new ArrayList<>(List.of("--index-url", urls.get(0)));
        for (String u : urls.subList(1, urls.size())) options.addAll(List.of("--extra-index-url", u));
        return options;
    }

    static String run(Path python, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python.toString(), SCRIPT.toString()));
        cmd.addAll(List.of(args));
        Result r = exec(cmd, 300);
        assertEquals(0, r.code, String.join(" ", args) + " failed:\n" + r.out);
        return r.out;
    }

    record Result(int code, String out) {
    }

    static Result exec(List<String> cmd, int seconds) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(127, e.getMessage());
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(124, "timed out after " + seconds + " s: " + String.join(" ", cmd));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
