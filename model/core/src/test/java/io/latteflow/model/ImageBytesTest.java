package io.latteflow.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image files and bytes are checked against the declared-size limit before decoding (issue 19). */
class ImageBytesTest {
    private static final long LIMIT = RequestLimits.DEFAULTS.maxImagePixels();

    @TempDir
    Path dir;

    /**
     * A real PNG of {@code width x height} 8-bit grey pixels, all zero: a few kilobytes that decode to
     * width x height bytes, so a reader without the size check would decode it (or run out of memory).
     */
    static byte[] blankPng(int width, int height) throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(raw)) {
            byte[] row = new byte[1 + width];                      // filter byte 0, then the row
            for (int y = 0; y < height; y++) z.write(row);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0).put((byte) 0)
                .put((byte) 0).put((byte) 0).array());
        chunk(png, "IDAT", raw.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void aFileDeclaringMorePixelsThanTheLimitIsRefusedBeforeDecoding() throws Exception {
        Path bomb = dir.resolve("bomb.png");
        Files.write(bomb, blankPng(5000, 5000));
        ImageBytes.BadImage e = assertThrows(ImageBytes.BadImage.class, () -> ImageBytes.read(bomb, LIMIT));
        assertEquals("image declares 5000x5000 pixels, more than the limit of " + LIMIT
                + " (possible decompression bomb); rejected before decoding", e.getMessage());
    }

    @Test
    void aMultiGigabyteFileIsReadThroughAStreamNotIntoMemory() throws Exception {
        Path huge = dir.resolve("huge.png");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(3L << 30);                                 // sparse: no disk, and more than an array can hold
        }
        ImageBytes.BadImage e = assertThrows(ImageBytes.BadImage.class, () -> ImageBytes.read(huge, LIMIT));
        assertTrue(e.getMessage().contains("not PNG, JPEG, BMP or GIF"), e.getMessage());
    }

    @Test
    void aGoodFileReadsAsTheBytesDecodeAndMissingOrEmptyFilesAreNamed() throws Exception {
        BufferedImage img = new BufferedImage(6, 4, BufferedImage.TYPE_INT_RGB);
        img.setRGB(2, 1, 0xff8800);
        Path good = dir.resolve("good.png");
        ImageIO.write(img, "png", good.toFile());
        BufferedImage read = ImageBytes.read(good, LIMIT);
        assertEquals(6, read.getWidth());
        assertEquals(0xff8800, read.getRGB(2, 1) & 0xffffff);
        assertEquals(read.getRGB(2, 1), ImageBytes.decode(Files.readAllBytes(good), LIMIT).getRGB(2, 1));
        Files.write(dir.resolve("empty.png"), new byte[0]);
        assertEquals("image file is empty", assertThrows(ImageBytes.BadImage.class, () -> ImageBytes.read(dir.resolve("empty.png"), LIMIT)).getMessage());
        assertThrows(NoSuchFileException.class, () -> ImageBytes.read(dir.resolve("missing.png"), LIMIT));
        assertThrows(NoSuchFileException.class, () -> ImageBytes.read(dir, LIMIT));
    }

    @Test
    void bytesDeclaringMorePixelsThanTheLimitAreRefusedBeforeDecoding() throws Exception {
        ImageBytes.BadImage e = assertThrows(ImageBytes.BadImage.class, () -> ImageBytes.decode(blankPng(5000, 5000), LIMIT));
        assertTrue(e.getMessage().contains("possible decompression bomb"), e.getMessage());
    }
}
