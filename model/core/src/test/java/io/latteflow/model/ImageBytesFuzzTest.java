package io.latteflow.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.latteflow.model.fuzz.FuzzFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz tests of the one image reader every front door uses (issue 19): {@link ImageBytes#decode} (Arrow cells, Flink
 * records, notebook byte arrays) and {@link ImageBytes#read} (the CLI's {@code answer}, the notebook's paths). Any
 * bytes either give an image within the pixel limit or a {@link ImageBytes.BadImage} saying why; anything else
 * (ImageIO's own runtime exceptions, an out-of-memory from a bomb, a hang) is a finding. The limit here is the
 * default of every front door, {@link RequestLimits#DEFAULTS}.
 */
class ImageBytesFuzzTest {
    private static final long MAX_PIXELS = RequestLimits.DEFAULTS.maxImagePixels();

    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void decodeBytes(byte[] data) {
        try {
            check(ImageBytes.decode(data, MAX_PIXELS));
        } catch (ImageBytes.BadImage e) {
            FuzzFiles.requireMessage(e);
        }
    }

    @FuzzTest
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void readFile(byte[] data) throws IOException {
        Path file = FuzzFiles.write("image", data);
        try {
            check(ImageBytes.read(file, MAX_PIXELS));
        } catch (ImageBytes.BadImage e) {
            FuzzFiles.requireMessage(e);
        }
    }

    /**
     * Writes the seeds ImageIO writes (run once: {@code -Dtest=ImageBytesFuzzTest#writeSeeds -Dlatte.fuzz.seeds=DIR}): a
     * small JPEG, TIFF and WBMP; the PNG, BMP and GIF seeds are written by hand, byte by byte.
     */
    @Test
    void writeSeeds() throws IOException {
        String to = System.getProperty("latte.fuzz.seeds");
        Assumptions.assumeTrue(to != null, "only when writing seeds");
        Path dir = Files.createDirectories(Path.of(to));
        BufferedImage rgb = new BufferedImage(8, 6, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 6; y++) for (int x = 0; x < 8; x++) rgb.setRGB(x, y, (x * 32) << 16 | (y * 40) << 8 | 0x80);
        BufferedImage binary = new BufferedImage(8, 4, BufferedImage.TYPE_BYTE_BINARY);
        binary.setRGB(1, 1, 0xffffff);
        assertTrue(ImageIO.write(rgb, "jpeg", dir.resolve("tiny.jpg").toFile()));
        assertTrue(ImageIO.write(rgb, "tiff", dir.resolve("tiny.tif").toFile()));
        assertTrue(ImageIO.write(binary, "wbmp", dir.resolve("tiny.wbmp").toFile()));
    }

    private static void check(BufferedImage img) {
        assertTrue(img.getWidth() > 0 && img.getHeight() > 0 && (long) img.getWidth() * img.getHeight() <= MAX_PIXELS,
                () -> "decoded " + img.getWidth() + "x" + img.getHeight());
        Images.resize(img, 16); // what a model then does with it (LatteFlow.readableImage)
    }
}
