/**
 * Latent codecs between pixels and the tokens the generation path draws. Public API: {@code LatentCodec}.
 */
package io.latteflow.model.latent;
