/**
 * The understanding backbone, Qwen2-VL at any size: vision tower, text decoder with M-RoPE, prefill and
 * KV-cached decoding. Internal to the model; reached through {@link io.latteflow.model.LatteFlow}.
 */
package io.latteflow.model.vlm;
