package io.latteflow.model.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Against the real files; without them every test here fails (never skips) and says how to fetch them. */
public class FashionMnistITCase {
    private static LabeledImages train, test;

    @BeforeAll
    static void load() {
        train = FashionMnist.load(TestData.dataRoot(), Split.TRAIN);
        test = FashionMnist.load(TestData.dataRoot(), Split.TEST);
    }

    @Test
    void countsAndShapes() {
        assertEquals(60000, train.size());
        assertEquals(10000, test.size());
        for (LabeledImages s : List.of(train, test)) {
            assertEquals(28, s.height());
            assertEquals(28, s.width());
            assertEquals(FashionMnist.CLASS_NAMES, s.classNames());
        }
        int[] six = new int[10], one = new int[10];
        Arrays.fill(six, 6000);
        Arrays.fill(one, 1000);
        assertArrayEquals(six, train.classCounts());
        assertArrayEquals(one, test.classCounts());
    }

    @Test
    void knownFirstImages() {
        // Values from the files themselves (checked with Python's gzip + struct): both first images are ankle boots.
        assertEquals(9, train.label(0));
        assertEquals("ankle boot", train.classNames().get(train.label(0)));
        assertEquals(217, train.pixel(0, 14, 14));
        assertEquals(1, train.pixel(0, 3, 12));
        assertEquals(13, train.pixel(0, 3, 15));
        assertEquals(255, train.pixel(0, 14, 25));
        assertEquals(0, train.pixel(0, 0, 0));
        assertEquals(9, test.label(0));
        assertEquals(2, test.label(1));
        assertEquals(110, test.pixel(0, 14, 14));
        assertEquals(3, test.pixel(0, 7, 19));
        int sum = 0;
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) sum += train.pixel(0, y, x);
        assertEquals(76247, sum);
    }

    @Test
    void arrayViews() {
        INDArray u8 = test.images();
        assertEquals(DataType.UINT8, u8.dataType());
        assertArrayEquals(new long[]{10000, 28, 28}, u8.shape());
        assertEquals(110, u8.getInt(0, 14, 14));
        assertEquals(255, u8.getInt(0, 20, 17));      // above 127: the signed-to-unsigned cast kept it
        INDArray x = test.toArray(0, 2);
        assertArrayEquals(new long[]{2, 1, 28, 28}, x.shape());
        assertEquals(110 / 255f, x.getFloat(0, 0, 14, 14), 0f);
        assertEquals(28 * 28 * 10000, test.pixels().length);
    }

    @Test
    void imagesAndCaptions() {
        BufferedImage rgb = train.image(0);
        assertEquals(BufferedImage.TYPE_INT_RGB, rgb.getType());
        assertEquals(0xd9d9d9, rgb.getRGB(14, 14) & 0xffffff);    // 217 in every channel
        BufferedImage gray = train.grayImage(0);
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, gray.getType());
        assertEquals(217, gray.getRaster().getSample(14, 14, 0));

        List<CaptionedImage> pairs = test.captioned();
        assertEquals(10000, pairs.size());
        assertEquals("a photo of an ankle boot", pairs.get(0).caption());
        assertEquals(9, pairs.get(0).label());
        assertEquals(0x6e6e6e, pairs.get(0).image().getRGB(14, 14) & 0xffffff);
        assertEquals("a photo of a pullover", pairs.get(1).caption());
        assertEquals(List.of(2, 1), test.captioned(1, 3).stream().map(CaptionedImage::label).toList());
        assertEquals("a photo of a sneaker", test.caption(7));
        assertThrows(IndexOutOfBoundsException.class, () -> test.captioned(0, 1).get(1));
    }

    @Test
    void mnist() {
        LabeledImages mtrain = Mnist.load(TestData.dataRoot(), Split.TRAIN), mtest = Mnist.load(TestData.dataRoot(), Split.TEST);
        assertEquals(60000, mtrain.size());
        assertEquals(10000, mtest.size());
        assertEquals(5, mtrain.label(0));
        assertEquals(240, mtrain.pixel(0, 14, 14));
        assertEquals(3, mtrain.pixel(0, 5, 12));
        assertEquals(7, mtest.label(0));
        assertEquals(84, mtest.pixel(0, 7, 6));
        assertEquals(980, mtest.classCounts()[0]);
        assertEquals(1135, mtest.classCounts()[1]);
        assertEquals(5923, mtrain.classCounts()[0]);
        assertEquals("the digit 7", mtest.captioned().get(0).caption());
        assertEquals("7", mtest.classNames().get(7));
    }

    @Test
    void missingDataSaysHowToFetchIt(@TempDir Path empty) {
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(empty, Split.TEST));
        assertTrue(e.getMessage().contains(DataException.FETCH_COMMAND) && e.getMessage().contains(empty.toString()), e.getMessage());
    }

    @Test
    void corruptFileInAPlausibleFolderIsNamed(@TempDir Path root) throws Exception {
        Path dir = Files.createDirectories(root.resolve(FashionMnist.FOLDER));
        Files.writeString(root.resolve(".complete-" + FashionMnist.FOLDER), "ok");
        Path real = TestData.dataRoot().resolve(FashionMnist.FOLDER);
        for (String f : List.of("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")) Files.copy(real.resolve(f), dir.resolve(f));
        // The labels of the training split paired with the test images: counts disagree.
        Files.copy(real.resolve("train-labels-idx1-ubyte.gz"), dir.resolve("t10k-labels-idx1-ubyte.gz"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(root, Split.TEST));
        assertTrue(e.getMessage().contains("t10k-labels-idx1-ubyte.gz") && e.getMessage().contains("60000 labels"), e.getMessage());
    }
}
