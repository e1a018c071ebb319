package io.latteflow.notebook;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.latent.DcAeConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ModelInfoTest {
    private static ModelInfo info(LatteConfig c) {
        return new ModelInfo("models/x", c, 1000, 250, "CpuBackend, float", true, false);
    }

    @Test
    void infoSaysWhetherImagesAreDrawnInPixelPatchesOrInADcAesLatents() {
        LatteConfig pixels = LatteConfig.small();
        assertEquals("49 tokens of 4x4 pixel patches", info(pixels).summary().get("latents"));
        LatteConfig dcAe = pixels.withDcAe("codec", DcAeConfig.small(16), 64);
        assertEquals("64 tokens of 16 channels: DC-AE f8 in codec", info(dcAe).summary().get("latents"));
    }
}
