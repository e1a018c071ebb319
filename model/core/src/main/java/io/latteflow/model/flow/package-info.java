/**
 * The generation path: layerwise timestep experts ({@code ExpertGroup}, {@code TimestepPartition}), generation
 * layers with timestep-conditioned residual attention, the Euler sampler and the prompt-context cache. Internal to
 * the model; reached through {@link io.latteflow.model.LatteFlow}.
 */
package io.latteflow.model.flow;
