/**
 * Long runs of issue 19 (not CI tests): {@link io.latteflow.examples.soak.ModelSoak} (generations and answers in one
 * JVM, its memory sampled), {@link io.latteflow.examples.soak.FlinkSoak} (a job on a process cluster whose
 * TaskManagers are killed every minute, every request checked exactly once) and
 * {@link io.latteflow.examples.soak.SoakPlot} (their CSVs as PNGs). Run them with {@code bench/soak.sh}; the results
 * are in docs/RELIABILITY.md.
 */
package io.latteflow.examples.soak;
