package io.latteflow.model.vlm;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteModel;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class KvCacheTest {
    final LatteConfig c = LatteConfig.tiny().toBuilder().maxContextTokens(96).build();
    final LatteModel model = LatteModel.create(c, 21);

    @Test
    void cachedGreedyDecodingEqualsRecomputingTheWholePrefixEachStepAcrossCacheBlocks() {
        int steps = 2 * KvCache.BLOCK + 3;                                      // the cache grows twice
        int n = c.imageTokens();
        int[] shortPrompt = prompt(n, 9, 10), longPrompt = prompt(n, 11, 12, 13, 14, 15);
        INDArray patches = ImagePatches.patches(c, List.of(Nd4j.rand(3, 16, 16), Nd4j.rand(3, 16, 16)));
        VisionLanguageModel.Decoding greedy = new VisionLanguageModel.Decoding(steps, 0, 1, -1, 0);
        int[][] cached = model.vlm().generate(PromptBatch.of(c, List.of(shortPrompt, longPrompt), true, 0), patches, greedy, new long[2]);
        for (int row = 0; row < 2; row++) {
            int[] seq = row == 0 ? shortPrompt : longPrompt;
            INDArray one = patches.get(NDArrayIndex.interval(row, row + 1), NDArrayIndex.all(), NDArrayIndex.all());
            int[] recomputed = new int[steps];
            for (int step = 0; step < steps; step++) {
                PromptBatch b = PromptBatch.of(c, List.of(seq), true, 0);
                INDArray hidden = model.vlm().prefill(b, one).hidden();
                INDArray last = hidden.get(NDArrayIndex.point(0), NDArrayIndex.point(seq.length - 1), NDArrayIndex.all()).reshape(1, -1);
                recomputed[step] = last.mmul(model.params().get("model.embed_tokens.weight").transpose()).argMax(1).getInt(0);
                seq = Arrays.copyOf(seq, seq.length + 1);
                seq[seq.length - 1] = recomputed[step];
            }
            assertArrayEquals(recomputed, cached[row], "row " + row);
        }
    }

    @Test
    void topPSamplingIsReproducibleFromTheSeedAndGreedyAtTemperatureZero() {
        int[] p = prompt(c.imageTokens(), 9, 10);
        INDArray patches = ImagePatches.patches(c, List.of(Nd4j.rand(3, 16, 16)));
        PromptBatch b = PromptBatch.of(c, List.of(p), true, 0);
        VisionLanguageModel.Decoding hot = new VisionLanguageModel.Decoding(8, 1.5, 0.9, -1, 0);
        int[] a = model.vlm().generate(b, patches, hot, new long[]{5})[0];
        assertArrayEquals(a, model.vlm().generate(b, patches, hot, new long[]{5})[0]);
        assertEquals(8, a.length);
    }

    private static int[] prompt(int imageTokens, int... question) {
        int[] s = new int[3 + imageTokens + question.length + 1];
        s[0] = 1;
        s[1] = 2;
        Arrays.fill(s, 2, 2 + imageTokens, 3);
        s[2 + imageTokens] = 4;
        System.arraycopy(question, 0, s, 3 + imageTokens, question.length);
        s[s.length - 1] = 5;
        return s;
    }
}
