/**
 * Files: safetensors (read and write, memory-mapped, bounds-checked), checkpoint directories and tokenizers.
 * Public API.
 */
package io.latteflow.model.io;
