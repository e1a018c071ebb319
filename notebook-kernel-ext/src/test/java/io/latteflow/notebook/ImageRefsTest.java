package io.latteflow.notebook;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code %latte answer} reads images as every front door does: the declared size is checked against the core's limit
 * before decoding (issue 19: a decompression bomb reached the notebook, which decoded it with ImageIO).
 */
class ImageRefsTest {
    @TempDir
    Path dir;

    /** A real 5000 x 5000 grey PNG of zeros: 25 KB that decode to 25 million pixels, over the 4096 x 4096 limit. */
    static byte[] bomb() throws IOException {
        int side = 5000;
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(raw)) {
            byte[] row = new byte[1 + side];
            for (int y = 0; y < side; y++) z.write(row);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(side).putInt(side).put((byte) 8).put(new byte[4]).array());
        chunk(png, "IDAT", raw.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void aDecompressionBombFileIsRefusedBeforeDecoding() throws Exception {
        Path file = dir.resolve("bomb.png");
        Files.write(file, bomb());
        try (LatteSession session = new LatteSession()) {
            LatteNotebookException e = assertThrows(LatteNotebookException.class,
                    () -> ImageRefs.resolve(file.toString(), session, name -> Optional.empty()));
            assertTrue(e.getMessage().contains(file + " is refused: image declares 5000x5000 pixels"), e.getMessage());
            assertTrue(e.getMessage().contains("possible decompression bomb"), e.getMessage());
        }
    }

    @Test
    void aDecompressionBombInAVariableIsRefusedBeforeDecoding() throws Exception {
        byte[] bytes = bomb();
        Path file = dir.resolve("bomb.png");
        Files.write(file, bytes);
        try (LatteSession session = new LatteSession()) {
            for (Object value : new Object[]{bytes, file, file.toFile()}) {
                LatteNotebookException e = assertThrows(LatteNotebookException.class,
                        () -> ImageRefs.resolve("picture", session, name -> Optional.of(value)));
                assertTrue(e.getMessage().contains("possible decompression bomb"), value.getClass() + ": " + e.getMessage());
            }
        }
    }

    @Test
    void bytesThatAreNotAnImageAreNamed() {
        try (LatteSession session = new LatteSession()) {
            LatteNotebookException e = assertThrows(LatteNotebookException.class,
                    () -> ImageRefs.resolve("picture", session, name -> Optional.of("hello".getBytes(StandardCharsets.UTF_8))));
            assertTrue(e.getMessage().contains("not PNG, JPEG, BMP or GIF"), e.getMessage());
        }
    }
}
