package io.latteflow.model.train;

import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import io.latteflow.model.io.TokenizerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tiny model memorises four pictures: it must draw each from its caption and answer questions about it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OverfitTest {
    static final String[] CAPTIONS = {"red over blue", "green beside yellow", "black white checkers", "purple fading out"};
    static final int SIZE = 16, GEN = 8;
    final List<INDArray> images = new ArrayList<>(), small = new ArrayList<>();
    LatteFlow flow;

    @BeforeAll
    void setUp(@TempDir Path dir) throws Exception {
        for (int k = 0; k < CAPTIONS.length; k++) {
            images.add(picture(k, SIZE));
            small.add(picture(k, GEN));
        }
        List<String> corpus = new ArrayList<>(List.of(CAPTIONS));
        corpus.add("what is on top ? which color is on top");
        Path tok = dir.resolve("tokenizer.json");
        TokenizerBuilder.writeWordLevel(corpus, 100, tok);
        LatteConfig c = LatteConfig.tiny().toBuilder().hiddenSize(64).intermediateSize(128).genImageSize(GEN)
                .latentPatch(2).vocabSize(40).build();
        flow = LatteFlow.create(c, 7, tok);
    }

    @Test
    void drawsEachMemorisedPictureFromItsCaption() {
        GenerationTrainer trainer = new GenerationTrainer(flow.model(), 3e-3, 1, flow.captionContext(""));
        List<int[]> contexts = new ArrayList<>();
        List<INDArray> batch = new ArrayList<>();
        for (int copy = 0; copy < 4; copy++) {                                   // 16 rows: four noise draws per picture
            for (int k = 0; k < CAPTIONS.length; k++) {
                contexts.add(flow.captionContext(CAPTIONS[k]));
                batch.add(small.get(k));
            }
        }
        INDArray latents = flow.model().codec().encode(Nd4j.stack(0, batch.toArray(new INDArray[0])));
        double first = 0, last = 0;
        for (int step = 0; step < 500; step++) {
            double loss = trainer.step(contexts, latents).loss();
            if (step == 0) first = loss;
            last = loss;
        }
        assertTrue(last < first / 5, "loss fell from " + first + " to " + last);
        for (int k = 0; k < CAPTIONS.length; k++) {
            INDArray drawn = flow.generate(GenerationRequest.of(CAPTIONS[k]).withSteps(16).withGuidance(2).withSeed(k)).pixels();
            double mse = drawn.squaredDistance(small.get(k)) / drawn.length();
            assertTrue(mse < 0.01, "'" + CAPTIONS[k] + "' drawn with pixel MSE " + mse);
        }
    }

    @Test
    void answersMemorisedQuestionsExactly() {
        UnderstandingTrainer trainer = new UnderstandingTrainer(flow.model(), 3e-3);
        List<INDArray> vlmImages = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>(), answers = new ArrayList<>();
        List<String> questions = new ArrayList<>(), expected = new ArrayList<>();
        for (int k = 0; k < CAPTIONS.length; k++) {
            INDArray img = images.get(k);
            vlmImages.add(img);
            questions.add("what is on top ?");
            expected.add(CAPTIONS[k]);
            vlmImages.add(img);
            questions.add("which color is on top");
            expected.add(CAPTIONS[k].split(" ")[0]);
        }
        for (int i = 0; i < questions.size(); i++) {
            prompts.add(flow.questionPrompt(questions.get(i)));
            answers.add(flow.answerTokens(expected.get(i)));
        }
        for (int step = 0; step < 250; step++) trainer.step(vlmImages, prompts, answers);
        List<VqaRequest> requests = new ArrayList<>();
        for (int i = 0; i < questions.size(); i++) requests.add(VqaRequest.of(vlmImages.get(i), questions.get(i)).withMaxNewTokens(6));
        assertEquals(expected, flow.answer(requests));
    }

    /** Four pictures that differ in colour and layout, at any even size. */
    static INDArray picture(int k, int size) {
        INDArray img = Nd4j.zeros(3, size, size);
        int half = size / 2;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                float[] rgb = switch (k) {
                    case 0 -> y < half ? new float[]{1, 0, 0} : new float[]{0, 0, 1};
                    case 1 -> x < half ? new float[]{0, 1, 0} : new float[]{1, 1, 0};
                    case 2 -> (x < half) == (y < half) ? new float[]{0, 0, 0} : new float[]{1, 1, 1};
                    default -> new float[]{0.6f * (1 - (float) x / size), 0.1f, 0.8f * (1 - (float) x / size)};
                };
                for (int ch = 0; ch < 3; ch++) img.putScalar(new long[]{ch, y, x}, rgb[ch]);
            }
        return img;
    }
}
