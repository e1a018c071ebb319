/**
 * Latent codecs between pixels and the tokens the generation path draws. Public API: {@code LatentCodec},
 * {@code PixelPatchCodec}, {@code DcAeCodec} and {@code DcAeConfig} (DC-AE, issue 20; docs/DCAE.md).
 */
package io.latteflow.model.latent;
