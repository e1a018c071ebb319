package io.latteflow.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.latteflow.model.fuzz.FuzzFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fuzz tests of the safetensors reader and of the shard index (issue 19). Whatever the bytes, opening a file and
 * reading every tensor it lists either works or fails with a {@link SafeTensorsException} that says why; any other
 * exception, a hang (the timeout) or an out-of-memory is a finding. Seeds: {@code SafeTensorsFuzzTestInputs/<method>/};
 * plain test runs replay them, {@code fuzz/fuzz-long.sh} fuzzes.
 */
class SafeTensorsFuzzTest {
    /** Any bytes as a {@code .safetensors} file: the header is checked, then every readable tensor read. */
    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void safetensorsFile(byte[] data) throws IOException {
        Path file = FuzzFiles.write("fuzz.safetensors", data);
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String name : st.names()) {
                SafeTensors.TensorInfo info = st.info(name);
                try {
                    INDArray a = st.get(name);
                    assertEquals(info.elements(), a.length(), name);
                    if (info.shape().length > 0) assertArrayEquals(info.shape(), a.shape(), name);
                } catch (SafeTensorsException e) { // a dtype that is not read as float, a shape ND4J cannot hold
                    FuzzFiles.requireMessage(e);
                }
            }
        } catch (SafeTensorsException e) {
            FuzzFiles.requireMessage(e);
        }
    }

    private static Path indexFolder;

    /**
     * Any bytes as {@code model.safetensors.index.json} beside one valid shard: the shards it names are resolved
     * (never outside the folder) and opened.
     */
    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shardIndex(byte[] data) throws IOException {
        if (indexFolder == null) {
            indexFolder = FuzzFiles.folder("index");
            try (var in = SafeTensorsFuzzTest.class.getResourceAsStream("/fixtures/python-written.safetensors")) {
                Files.write(indexFolder.resolve("model-00001-of-00001.safetensors"), in.readAllBytes());
            }
        }
        FuzzFiles.write(indexFolder, "model.safetensors.index.json", data);
        try {
            List<Path> shards = SafeTensors.checkpointFiles(indexFolder);
            for (Path shard : shards) {
                if (!shard.toAbsolutePath().normalize().getParent().equals(indexFolder.toAbsolutePath().normalize())) {
                    throw new AssertionError("shard outside the model folder: " + shard);
                }
                try (SafeTensors st = SafeTensors.open(shard)) {
                    st.names();
                }
            }
        } catch (SafeTensorsException e) {
            FuzzFiles.requireMessage(e);
        }
    }
}
