package io.latteflow.model;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.latteflow.model.fuzz.FuzzFiles;
import io.latteflow.model.hf.Qwen2VlFolder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz tests of the two {@code config.json} readers (issue 19): ours ({@link LatteConfig#read}) and Hugging Face's
 * Qwen2-VL one ({@link Qwen2VlFolder#read}). Any bytes either give a configuration or an {@link IOException} naming
 * the file and the problem. A configuration that is accepted must also describe a network: the weight list that
 * loading builds from it ({@link LatteWeights#specs}) is built, and every weight has a positive size that a long
 * counts; a config that reads but cannot be built (a zero or negative size, a count that overflows, a size that
 * would exhaust memory before a weight is read) is a finding like a crash.
 */
class ConfigJsonFuzzTest {
    /** Far above the paper model's 2.2 G parameters, far below a size whose weight list alone exhausts memory. */
    private static final long MAX_CHECKED_PARAMETERS = 1L << 40;

    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void latteConfig(byte[] data) {
        Path file = FuzzFiles.write("config.json", data);
        LatteConfig config;
        try {
            config = LatteConfig.read(file);
        } catch (IOException e) {
            FuzzFiles.requireMessage(e);
            return;
        }
        requireBuildable(config);
    }

    private static Path hfFolder;

    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void qwen2VlConfig(byte[] data) {
        if (hfFolder == null) hfFolder = FuzzFiles.folder("hf");
        FuzzFiles.write(hfFolder, "config.json", data);
        Qwen2VlFolder folder;
        try {
            folder = Qwen2VlFolder.read(hfFolder);
        } catch (IOException e) {
            FuzzFiles.requireMessage(e);
            return;
        }
        requireBuildable(folder.config());
    }

    static void requireBuildable(LatteConfig config) {
        long total = 0;
        Map<String, LatteWeights.Spec> specs = LatteWeights.specs(config);
        for (Map.Entry<String, LatteWeights.Spec> e : specs.entrySet()) {
            long n = 1;
            for (long d : e.getValue().shape()) {
                if (d < 1) throw new AssertionError("accepted config gives " + e.getKey() + " the shape "
                        + Arrays.toString(e.getValue().shape()) + ": " + config);
                n = Math.multiplyExact(n, d);
            }
            total = Math.addExact(total, n);
        }
        if (total > MAX_CHECKED_PARAMETERS) throw new AssertionError("accepted config has " + total + " parameters: " + config);
    }
}
