package io.latteflow.model.eval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class InceptionScoreTest {
    private static INDArray rows(int n, int k, java.util.function.IntFunction<float[]> row) {
        float[] p = new float[n * k];
        for (int i = 0; i < n; i++) System.arraycopy(row.apply(i), 0, p, i * k, k);
        return Nd4j.create(p, new long[]{n, k}, 'c');
    }

    private static float[] oneHot(int k, int c) {
        float[] r = new float[k];
        r[c] = 1;
        return r;
    }

    @Test
    void uniformPredictionsScoreOne() {
        float[] uniform = new float[10];
        java.util.Arrays.fill(uniform, 0.1f);
        assertEquals(1, InceptionScore.score(rows(50, 10, i -> uniform)), 1e-6);
    }

    @Test
    void confidentEvenlySpreadPredictionsScoreTheNumberOfClasses() {
        assertEquals(10, InceptionScore.score(rows(100, 10, i -> oneHot(10, i % 10))), 1e-9);
        assertEquals(4, InceptionScore.score(rows(8, 4, i -> oneHot(4, i % 4))), 1e-9);
    }

    @Test
    void confidentButCollapsedScoresOne() {
        assertEquals(1, InceptionScore.score(rows(30, 10, i -> oneHot(10, 3))), 1e-9);
    }

    @Test
    void confidentInTwoOfTenClassesScoresTwo() {
        assertEquals(2, InceptionScore.score(rows(40, 10, i -> oneHot(10, i % 2 == 0 ? 1 : 7))), 1e-9);
    }

    @Test
    void splits() {
        InceptionScore.Result r = InceptionScore.of(rows(100, 10, i -> oneHot(10, i % 10)), 5);
        assertEquals(10, r.mean(), 1e-9);
        assertEquals(0, r.std(), 1e-9);
        assertEquals(5, r.splits());
        // First half all class 0 (score 1), second half evenly spread over two classes (score 2).
        InceptionScore.Result mixed = InceptionScore.of(rows(8, 3, i -> oneHot(3, i < 4 ? 0 : 1 + i % 2)), 2);
        assertEquals(1.5, mixed.mean(), 1e-9);
        assertEquals(0.5, mixed.std(), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> InceptionScore.of(rows(3, 2, i -> oneHot(2, 0)), 4));
    }
}
