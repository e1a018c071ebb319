package io.latteflow.model;

/**
 * How generation layers relate to the understanding backbone (paper section 4.1).
 *
 * <pre>{@code
 * LatteConfig cfg = LatteConfig.tiny().withVariant(Variant.BLEND);
 * }</pre>
 */
public enum Variant {
    /** Frozen VLM; every generation layer is a trainable copy of its VLM layer. */
    COUPLE,
    /** Attention projections shared by context and image tokens; norms and MLPs per modality; all trained. */
    BLEND
}
