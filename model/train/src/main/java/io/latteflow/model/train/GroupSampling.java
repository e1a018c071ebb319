package io.latteflow.model.train;

/**
 * How a generation training step picks the expert groups it trains.
 *
 * <ul>
 *   <li>{@link #PER_SAMPLE}: the batch is dealt out over all K groups, each sample draws t inside its group's
 *   widened interval, and one update covers every group (the paper trains all groups jointly). Each group sees
 *   about batch / K samples per step, and every layer is updated every step.</li>
 *   <li>{@link #PER_STEP}: the step draws one group, and the whole batch trains it. A layer is updated on about
 *   one step in K, on the full batch; the per-step cost is the same as {@code PER_SAMPLE}'s.</li>
 * </ul>
 *
 * <pre>{@code
 * GenerationTrainer trainer = new GenerationTrainer(model, 1e-3, 7, empty, GroupSampling.PER_SAMPLE);
 * }</pre>
 */
public enum GroupSampling {
    PER_SAMPLE, PER_STEP
}
