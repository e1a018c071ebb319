package io.latteflow.model;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * One finished sampling step of a batch. Requests with different step counts are sampled as separate batches, so
 * {@code requests} says which requests (by index in the list given to {@code generate}) this step belongs to.
 *
 * <pre>{@code
 * GenerationListener l = p -> log.info("{}/{} for requests {}", p.step(), p.steps(), p.requests());
 * }</pre>
 *
 * @param step     finished steps, 1..steps
 * @param steps    T' of this batch
 * @param requests indices of this batch's requests
 * @param previews the clean-image estimate x1_hat = x_t + (1 - t) v per request of this batch, decoded to pixels;
 *                 empty when this step has no preview
 */
public record GenerationProgress(int step, int steps, List<Integer> requests, List<BufferedImage> previews) {
    public GenerationProgress {
        requests = List.copyOf(requests);
        previews = List.copyOf(previews);
    }

    public boolean hasPreview() {
        return !previews.isEmpty();
    }
}
