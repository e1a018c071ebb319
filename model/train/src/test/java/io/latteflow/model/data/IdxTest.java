package io.latteflow.model.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxTest {
    @TempDir
    Path tmp;

    /** A well-formed header for the given sizes, followed by {@code data}. */
    private static byte[] idx(int dtype, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) dtype).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        return b.put(data).array();
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(tmp.resolve(name), bytes);
    }

    /** The exception must name the file, so a user knows which download to repeat. */
    static DataException fails(Path file, String why) {
        DataException e = assertThrows(DataException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(why), "expected '" + why + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(DataException.FETCH_COMMAND), e.getMessage());
        return e;
    }

    @Test
    void readsRawAndGzippedAlikeWithUnsignedValues() throws IOException {
        byte[] data = {0, 1, 127, (byte) 128, (byte) 200, (byte) 255};
        byte[] raw = idx(0x08, new int[]{2, 3}, data);
        for (Path file : new Path[]{write("a-idx2-ubyte", raw), write("a-idx2-ubyte.gz", gzip(raw)), write("gz-without-suffix", gzip(raw))}) {
            Idx idx = Idx.read(file);
            assertArrayEquals(new int[]{2, 3}, idx.dims(), file.toString());
            assertEquals(6, idx.length());
            int[] values = new int[6];
            for (int i = 0; i < 6; i++) values[i] = idx.unsigned(i);
            assertArrayEquals(new int[]{0, 1, 127, 128, 200, 255}, values);
        }
    }

    @Test
    void truncatedRawFile() throws IOException {
        byte[] full = idx(0x08, new int[]{10, 28, 28}, new byte[10 * 28 * 28]);
        fails(write("cut-idx3-ubyte", Arrays.copyOf(full, full.length - 100)), "truncated");
    }

    @Test
    void truncatedGzipFile() throws IOException {
        byte[] gz = gzip(idx(0x08, new int[]{10, 28, 28}, randomBytes(10 * 28 * 28)));
        fails(write("cut-idx3-ubyte.gz", Arrays.copyOf(gz, gz.length / 2)), "corrupt");
    }

    @Test
    void gzipWhoseHeaderPromisesMoreThanItHolds() throws IOException {
        fails(write("short-idx1-ubyte.gz", gzip(idx(0x08, new int[]{60000}, new byte[100]))), "truncated");
    }

    @Test
    void sizesBeyondTheFile() throws IOException {
        fails(write("huge-idx3-ubyte", idx(0x08, new int[]{100000, 28, 28}, new byte[50])), "truncated");
        fails(write("huge-idx3-ubyte.gz", gzip(idx(0x08, new int[]{100000, 28, 28}, new byte[50]))), "truncated");
        fails(write("overflow-idx3-ubyte", idx(0x08, new int[]{0x7fffffff, 0x7fffffff, 2}, new byte[8])), "2 GiB");
        fails(write("negative-idx1-ubyte", idx(0x08, new int[]{-1}, new byte[8])), "too large");
    }

    @Test
    void trailingBytes() throws IOException {
        fails(write("long-idx1-ubyte", idx(0x08, new int[]{3}, new byte[5])), "trailing");
        fails(write("long-idx1-ubyte.gz", gzip(idx(0x08, new int[]{3}, new byte[5]))), "trailing");
    }

    @Test
    void wrongMagicTypeAndRank() throws IOException {
        byte[] good = idx(0x08, new int[]{4}, new byte[4]);
        byte[] magic = good.clone();
        magic[0] = 0x12;
        fails(write("magic-idx1-ubyte", magic), "magic");
        fails(write("float-idx1-ubyte", idx(0x0D, new int[]{1}, new byte[4])), "element type 0x0d");
        fails(write("rank0-idx-ubyte", idx(0x08, new int[]{}, new byte[0])), "rank 0");
        fails(write("png-pretending", new byte[]{(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0}), "magic");
        fails(write("empty", new byte[0]), "truncated");
        fails(write("half-header-idx3-ubyte", Arrays.copyOf(idx(0x08, new int[]{1, 2, 2}, new byte[4]), 9)), "truncated header");
    }

    @Test
    void wrongRankForItsUse() throws IOException {
        Path labels = write("labels-idx1-ubyte", idx(0x08, new int[]{4}, new byte[4]));
        DataException e = assertThrows(DataException.class, () -> Idx.read(labels, 3));
        assertTrue(e.getMessage().contains(labels.toString()) && e.getMessage().contains("rank-3"), e.getMessage());
    }

    @Test
    void missingFile() {
        Path none = tmp.resolve("nothing-here-idx3-ubyte.gz");
        DataException e = assertThrows(DataException.class, () -> Idx.read(none));
        assertTrue(e.getMessage().contains(none.toString()) && e.getMessage().contains("missing"), e.getMessage());
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new java.util.Random(1).nextBytes(b);
        return b;
    }
}
