package io.latteflow.model.eval;

import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import io.latteflow.model.data.VqaSample;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntConsumer;

/**
 * Exact-match VQA accuracy per question type, with greedy decoding. Answers are compared after lower-casing and
 * collapsing white space, since the training answers are short lower-case phrases.
 *
 * <pre>{@code
 * VqaAccuracy.Result r = VqaAccuracy.of(model, new EmojiQuestions(1, 32).samples(heldOut, 200), 32, done -> {});
 * double category = r.byType().get(EmojiQuestions.CATEGORY).accuracy();
 * }</pre>
 */
public final class VqaAccuracy {
    private VqaAccuracy() {
    }

    /** Questions asked and answered right. */
    public record Score(int asked, int correct) {
        public double accuracy() {
            return asked == 0 ? Double.NaN : (double) correct / asked;
        }
    }

    /** Scores by question type (sorted by name), overall, and a few wrong answers as (question, expected, got). */
    public record Result(Map<String, Score> byType, Score overall, List<String[]> mistakes) {}

    private static final int MISTAKES_KEPT = 20;

    /** Asks every sample's question of {@code model} in batches of {@code batch}; {@code progress} gets samples done. */
    public static Result of(LatteFlow model, List<VqaSample> samples, int batch, IntConsumer progress) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        Map<String, int[]> counts = new TreeMap<>();
        List<String[]> mistakes = new ArrayList<>();
        int asked = 0, correct = 0;
        for (int from = 0; from < samples.size(); from += batch) {
            List<VqaSample> part = samples.subList(from, Math.min(samples.size(), from + batch));
            List<VqaRequest> requests = part.stream().map(s -> VqaRequest.of(s.image(), s.question())).toList();
            List<String> answers = model.answer(requests);
            for (int i = 0; i < part.size(); i++) {
                VqaSample s = part.get(i);
                boolean right = normalise(answers.get(i)).equals(normalise(s.answer()));
                int[] c = counts.computeIfAbsent(s.type(), t -> new int[2]);
                c[0]++;
                asked++;
                if (right) {
                    c[1]++;
                    correct++;
                } else if (mistakes.size() < MISTAKES_KEPT) {
                    mistakes.add(new String[]{s.question(), s.answer(), answers.get(i)});
                }
            }
            progress.accept(from + part.size());
        }
        Map<String, Score> byType = new TreeMap<>();
        counts.forEach((t, c) -> byType.put(t, new Score(c[0], c[1])));
        return new Result(Collections.unmodifiableMap(byType), new Score(asked, correct), List.copyOf(mistakes));
    }

    static String normalise(String answer) {
        return answer == null ? "" : answer.trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
    }
}
