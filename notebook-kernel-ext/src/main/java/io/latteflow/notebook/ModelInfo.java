package io.latteflow.notebook;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code %latte info} shows: where the model came from, how many parameters one sampling step reads
 * (LaTtE-Flow runs one timestep-expert group per step), what an image is drawn in (pixel patches or a DC-AE's
 * latents), the ND4J backend, and the full config.
 *
 * <pre>{@code
 * ModelInfo info = ModelInfo.of(flow, "models/latte-emoji");
 * long perStep = info.activeParamsPerStep();
 * }</pre>
 */
public record ModelInfo(String source, LatteConfig config, long totalParams, long activeParamsPerStep, String backend,
                        boolean draws, boolean qwenChat) {

    public static ModelInfo of(LatteFlow flow, String source) {
        String backend = Nd4j.getBackend().getClass().getSimpleName() + ", " + Nd4j.dataType().name().toLowerCase();
        return new ModelInfo(source, flow.config(), flow.parameterCount(), flow.activeParamsPerStep(), backend,
                flow.canGenerate(), flow.chat() != null);
    }

    public Map<String, Object> summary() {
        Map<String, Object> rows = new LinkedHashMap<>();
        rows.put("model", source);
        rows.put("backend", backend);
        rows.put("parameters", String.format("%,d", totalParams));
        String read = qwenChat ? "images read at their own size (Qwen2-VL processor)" : config.imageSize() + "x" + config.imageSize() + " read";
        if (draws) {
            rows.put("active parameters per step", String.format("%,d (%d of %d layers: one of %d expert groups)",
                    activeParamsPerStep, config.layersPerGroup(), config.numLayers(), config.groups()));
            rows.put("image", config.genImageSize() + "x" + config.genImageSize() + " generated, " + read);
            rows.put("latents", latents(config));
            rows.put("defaults", "steps " + config.defaultSteps() + ", cfg " + config.defaultCfg());
        } else {
            rows.put("image", read + "; answers only (make a drawing model with latte init-couple)");
        }
        return rows;
    }

    /** What one generated image is made of: pixel patches, or the cells of a DC-AE's latent grid (issue 20). */
    static String latents(LatteConfig c) {
        return c.pixelCodec()
                ? String.format("%d tokens of %dx%d pixel patches", c.latentTokens(), c.latentPatch(), c.latentPatch())
                : String.format("%d tokens of %d channels: DC-AE f%d in %s", c.latentTokens(), c.latentDim(), c.latentPatch(), c.dcAeFolder());
    }

    public String toHtml() {
        return "<div class=\"latte-info\">" + ConfigTable.table(summary()) + "<details><summary>config</summary>"
                + ConfigTable.html(config) + "</details></div>";
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        summary().forEach((k, v) -> text.append(k).append(": ").append(v).append('\n'));
        return text.toString().trim();
    }
}
