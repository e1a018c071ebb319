package io.latteflow.model;

import java.util.function.Consumer;

/**
 * Watches a generation as it samples: called after every Euler step, and every {@link #previewEvery()} steps with
 * the current estimate of the finished images. Runs on the generating thread, so keep it quick.
 *
 * <pre>{@code
 * flow.generate(requests, GenerationListener.withPreviews(4, p -> {
 *     System.out.println("step " + p.step() + " of " + p.steps());
 *     if (p.hasPreview()) show(p.previews().get(0));
 * }));
 * }</pre>
 */
@FunctionalInterface
public interface GenerationListener {
    void onStep(GenerationProgress progress);

    /** Decode an image estimate every this many steps (and at the last step); 0 for never, which costs nothing. */
    default int previewEvery() {
        return 0;
    }

    static GenerationListener withPreviews(int every, Consumer<GenerationProgress> onStep) {
        if (every < 0) throw new IllegalArgumentException("preview interval must be >= 0, got " + every);
        return new GenerationListener() {
            @Override
            public void onStep(GenerationProgress progress) {
                onStep.accept(progress);
            }

            @Override
            public int previewEvery() {
                return every;
            }
        };
    }
}
