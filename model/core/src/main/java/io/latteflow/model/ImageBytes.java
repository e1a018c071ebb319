package io.latteflow.model;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.zip.CRC32;

/**
 * Decodes untrusted encoded images (table cells, stream records, files). The declared size is checked before any
 * pixel is decoded, because a few hundred bytes of PNG can declare a 100000 x 100000 image that would exhaust the heap.
 *
 * <pre>{@code
 * try {
 *     BufferedImage img = ImageBytes.decode(bytes, 16_000_000);
 *     BufferedImage fromFile = ImageBytes.read(Path.of("cat.png"), RequestLimits.DEFAULTS.maxImagePixels());
 * } catch (ImageBytes.BadImage e) {
 *     deadLetter(e.getMessage());          // e.g. "image declares 100000x100000 pixels, more than the limit ..."
 * }
 * }</pre>
 */
public final class ImageBytes {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    /** Signature, IHDR length and type, width, height, five one-byte fields and the CRC. */
    private static final int PNG_HEADER_BYTES = 33;

    private ImageBytes() {
    }

    /** Thrown for bytes that are not a decodable image within the limits; the message says why. */
    public static final class BadImage extends Exception {
        public BadImage(String message) {
            super(message);
        }
    }

    public static BufferedImage decode(byte[] bytes, long maxPixels) throws BadImage {
        if (bytes.length == 0) throw new BadImage("image bytes are empty");
        if (startsWith(bytes, PNG_SIGNATURE)) checkPngHeader(bytes, maxPixels);
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            return decode(in, maxPixels);
        } catch (IOException e) {
            throw cannotDecode(e);
        }
    }

    /**
     * Reads an image file with the checks of {@link #decode}: the file is read through ImageIO's file stream, never
     * whole into memory, and its declared size is checked before any pixel is decoded. This is the one way every
     * front door reads an image file (the CLI's {@code answer}, the notebook), so a decompression bomb or a
     * multi-gigabyte file is refused in milliseconds wherever it arrives (issue 19).
     *
     * @throws BadImage    the file is empty, not an image, or declares more than {@code maxPixels} pixels
     * @throws IOException the file cannot be read (missing, a folder, no permission)
     */
    public static BufferedImage read(Path file, long maxPixels) throws BadImage, IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "does not exist or is not a file");
        if (Files.size(file) == 0) throw new BadImage("image file is empty");
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(PNG_HEADER_BYTES);
        }
        if (startsWith(head, PNG_SIGNATURE)) checkPngHeader(head, maxPixels);
        try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
            return decode(in, maxPixels);
        } catch (IOException e) {
            throw cannotDecode(e);
        }
    }

    /** The first reader ImageIO finds for the stream, its header size checked before {@code read}. */
    private static BufferedImage decode(ImageInputStream in, long maxPixels) throws BadImage, IOException {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        if (!readers.hasNext()) throw new BadImage("image bytes are not PNG, JPEG, BMP or GIF");
        ImageReader reader = readers.next();
        try {
            reader.setInput(in, true, true);
            // Other formats get the same guard from their header, read without decoding pixels.
            long w = reader.getWidth(0), h = reader.getHeight(0);
            checkSize(w, h, maxPixels);
            BufferedImage img = reader.read(0);
            if (img == null) throw new BadImage("image could not be decoded");
            return img;
        } catch (RuntimeException e) {
            throw cannotDecode(e);
        } finally {
            reader.dispose();
        }
    }

    private static BadImage cannotDecode(Exception e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new BadImage("image cannot be decoded: " + why);
    }

    /** PNG: signature, then the IHDR chunk (length 13) with width and height as big-endian uint32. */
    public static void checkPngHeader(byte[] b, long maxPixels) throws BadImage {
        if (b.length < PNG_HEADER_BYTES) throw new BadImage("PNG is truncated before the end of its IHDR header (" + b.length + " bytes)");
        if (readInt(b, 8) != 13 || b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') {
            throw new BadImage("PNG does not start with an IHDR chunk");
        }
        CRC32 crc = new CRC32();
        crc.update(b, 12, 17);
        if ((int) crc.getValue() != readInt(b, 29)) throw new BadImage("PNG IHDR checksum mismatch (corrupt header)");
        checkSize(readInt(b, 16) & 0xffffffffL, readInt(b, 20) & 0xffffffffL, maxPixels);
    }

    private static void checkSize(long w, long h, long maxPixels) throws BadImage {
        if (w <= 0 || h <= 0) throw new BadImage("image declares an empty size " + w + "x" + h);
        if (w > maxPixels || h > maxPixels || w * h > maxPixels) {
            throw new BadImage("image declares " + w + "x" + h + " pixels, more than the limit of " + maxPixels
                    + " (possible decompression bomb); rejected before decoding");
        }
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        if (b.length < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if (b[i] != prefix[i]) return false;
        return true;
    }
}
