/**
 * Hugging Face Qwen2-VL folders as downloaded: their config read into a LatteConfig, Qwen2VLImageProcessor's
 * preprocessing, the checkpoint's own chat template, get_rope_index positions, batched chat answering, and the
 * Couple initialisation of a LaTtE-Flow model from such a VLM. Public API: {@code Qwen2VlFolder}, {@code Qwen2VlChat},
 * {@code CoupleInit}, {@code ChatTemplate}, {@code ImageProcessor}; {@code Bicubic} is internal.
 */
package io.latteflow.model.hf;
