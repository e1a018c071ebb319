package io.latteflow.model.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The IDX reader on the real files that {@code data/fetch.sh} downloads (the format's unit tests are {@link IdxTest}). */
class IdxITCase {
    @TempDir
    Path tmp;

    @Test
    void readsTheRealFiles() {
        Path root = TestData.dataRoot();
        Idx images = Idx.read(root.resolve("fashion-mnist/t10k-images-idx3-ubyte.gz"), 3);
        assertArrayEquals(new int[]{10000, 28, 28}, images.dims());
        Idx labels = Idx.read(root.resolve("mnist/train-labels-idx1-ubyte"), 1);
        assertArrayEquals(new int[]{60000}, labels.dims());
        assertEquals(5, labels.unsigned(0));
    }

    @Test
    void truncatedCopyOfTheRealLabels() throws IOException {
        byte[] real = Files.readAllBytes(TestData.dataRoot().resolve("fashion-mnist/t10k-labels-idx1-ubyte.gz"));
        IdxTest.fails(write("t10k-labels-idx1-ubyte.gz", Arrays.copyOf(real, real.length - 1000)), "corrupt");
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(tmp.resolve(name), bytes);
    }
}
