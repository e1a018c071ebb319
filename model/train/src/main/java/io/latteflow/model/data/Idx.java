package io.latteflow.model.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * An unsigned-byte IDX array (the MNIST file format), read from a raw or gzipped file; gzip is recognised by its
 * magic bytes, not by the file name.
 *
 * <p>Format: a big-endian header {@code 00 00 08 rank}, then {@code rank} 32-bit sizes, then exactly
 * size_1 * ... * size_rank bytes. Every field is checked, and a file that is shorter or longer than its header says
 * fails; every failure is a {@link DataException} naming the file.
 *
 * <pre>{@code
 * Idx images = Idx.read(Path.of("data/fashion-mnist/train-images-idx3-ubyte.gz"));
 * int[] dims = images.dims();                 // {60000, 28, 28}
 * int first = images.unsigned(0);             // pixel (0, 0) of image 0, 0..255
 * }</pre>
 */
public final class Idx {
    /** The only element type the MNIST family uses (0x08 = unsigned byte); others are rejected. */
    static final int UBYTE = 0x08;
    /** Java arrays stop a little short of Integer.MAX_VALUE. */
    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;
    private static final int MAX_RANK = 8;

    private final Path file;
    private final int[] dims;
    private final byte[] data;

    private Idx(Path file, int[] dims, byte[] data) {
        this.file = file;
        this.dims = dims;
        this.data = data;
    }

    /** Reads and validates a whole file. */
    public static Idx read(Path file) {
        if (!Files.isRegularFile(file)) throw DataException.missing(file);
        try (InputStream in = open(file)) {
            return parse(file, in, isGzip(file));
        } catch (NoSuchFileException e) {
            throw DataException.missing(file);
        } catch (EOFException | ZipException e) {
            // A gzip stream cut short or damaged surfaces here, before the header checks can see it.
            throw DataException.corrupt(file, "broken gzip stream: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new DataException("cannot read " + file + ": " + e, e);
        }
    }

    /** Reads a file and checks it has the expected rank, e.g. 3 for images, 1 for labels. */
    public static Idx read(Path file, int rank) {
        Idx idx = read(file);
        if (idx.dims.length != rank) {
            throw DataException.corrupt(file, "expected a rank-" + rank + " IDX array, the header says rank "
                    + idx.dims.length + " " + Arrays.toString(idx.dims), null);
        }
        return idx;
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        return isGzip(file) ? new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16) : in;
    }

    private static Idx parse(Path file, InputStream in, boolean gzip) throws IOException {
        byte[] head = in.readNBytes(4);
        if (head.length < 4) throw DataException.corrupt(file, "truncated: " + head.length + " bytes, shorter than the 4-byte IDX magic", null);
        if (head[0] != 0 || head[1] != 0) {
            throw DataException.corrupt(file, String.format("not an IDX file: magic starts %02x %02x, expected 00 00",
                    head[0] & 0xff, head[1] & 0xff), null);
        }
        int dtype = head[2] & 0xff, rank = head[3] & 0xff;
        if (dtype != UBYTE) throw DataException.corrupt(file, String.format("IDX element type 0x%02x, only 0x08 (unsigned byte) is supported", dtype), null);
        if (rank < 1 || rank > MAX_RANK) throw DataException.corrupt(file, "IDX rank " + rank + ", expected 1.." + MAX_RANK, null);

        byte[] sizes = in.readNBytes(4 * rank);
        if (sizes.length < 4 * rank) throw DataException.corrupt(file, "truncated header: " + rank + " sizes announced, file ends after " + sizes.length / 4, null);
        int[] dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++) {
            long d = ((sizes[4 * i] & 0xffL) << 24) | ((sizes[4 * i + 1] & 0xff) << 16) | ((sizes[4 * i + 2] & 0xff) << 8) | (sizes[4 * i + 3] & 0xff);
            if (d > Integer.MAX_VALUE) throw DataException.corrupt(file, "IDX size " + d + " of dimension " + i + " is too large", null);
            dims[i] = (int) d;
            total *= d;
            if (total > MAX_BYTES) throw DataException.corrupt(file, "IDX sizes " + Arrays.toString(Arrays.copyOf(dims, i + 1)) + " describe more than 2 GiB", null);
        }
        long headerBytes = 4L + 4L * rank;
        // For a raw file the size is known up front, so a bogus header fails before anything is allocated.
        if (!gzip) checkRawLength(file, headerBytes, total);
        // readNBytes grows its buffer as data arrives, so a lying gzip header cannot make us allocate 2 GiB up front.
        byte[] data = in.readNBytes((int) total);
        if (data.length < total) {
            throw DataException.corrupt(file, "truncated: the header " + Arrays.toString(dims) + " announces " + total
                    + " data bytes, the file holds " + data.length, null);
        }
        if (in.read() != -1) {
            throw DataException.corrupt(file, "trailing bytes after the " + total + " data bytes the header "
                    + Arrays.toString(dims) + " announces", null);
        }
        return new Idx(file, dims, data);
    }

    private static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }

    private static void checkRawLength(Path file, long headerBytes, long dataBytes) throws IOException {
        long size = Files.size(file);
        if (size != headerBytes + dataBytes) {
            throw DataException.corrupt(file, (size < headerBytes + dataBytes ? "truncated" : "trailing bytes") + ": the header announces "
                    + dataBytes + " data bytes after a " + headerBytes + "-byte header, the file is " + size + " bytes", null);
        }
    }

    /** The file this array came from. */
    public Path file() {
        return file;
    }

    /** The sizes from the header, outermost first. */
    public int[] dims() {
        return dims.clone();
    }

    /** The number of elements (the product of the sizes). */
    public int length() {
        return data.length;
    }

    /** Element {@code index} (row-major) as 0..255. */
    public int unsigned(int index) {
        return data[index] & 0xff;
    }

    /** The raw elements, row-major; shared, not copied: callers in this package own what they are given. */
    byte[] bytes() {
        return data;
    }
}
