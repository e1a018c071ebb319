package io.latteflow.flink;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteFlow;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import java.util.ArrayList;
import java.util.List;

/** Caption to image: admits prompts the model can read and settings in range, draws a batch in one sampling run. */
final class GenerateTask extends LatteTask<ImageRequest, ImageResult> {
    private static final long serialVersionUID = 1L;

    @Override
    String name() {
        return "generate";
    }

    @Override
    TypeInformation<ImageRequest> requestType() {
        return TypeInformation.of(ImageRequest.class);
    }

    @Override
    String id(ImageRequest r) {
        return r.id;
    }

    @Override
    ImageRequest admit(ImageRequest r, LatteOptions o, LatteFlow flow) throws Refused {
        if (r.id == null) throw new Refused("id is null");
        require(r.prompt, "prompt", o.maxPromptChars());
        int tokens = flow.captionContext(r.prompt).length, max = flow.config().maxContextTokens();
        if (tokens > max) throw new Refused("prompt is " + tokens + " tokens long, more than the model's " + max);
        if (r.steps != null && (r.steps < 1 || r.steps > o.maxSteps())) {
            throw new Refused("steps " + r.steps + " is outside [1, " + o.maxSteps() + "] (latte.max-steps)");
        }
        if (r.guidance != null && !(r.guidance >= 0 && r.guidance <= o.maxGuidance())) {
            throw new Refused("guidance " + r.guidance + " is outside [0, " + o.maxGuidance() + "] (latte.max-guidance)");
        }
        return r;
    }

    @Override
    List<ImageResult> run(LatteFlow flow, List<ImageRequest> batch, LatteOptions options) {
        List<GenerationRequest> requests = new ArrayList<>(batch.size());
        for (ImageRequest r : batch) requests.add(request(r));
        List<GeneratedImage> images = flow.generate(requests);
        List<ImageResult> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) out.add(result(batch.get(i), images.get(i)));
        return out;
    }

    /** The model's request for an admitted Flink request. */
    static GenerationRequest request(ImageRequest r) {
        return new GenerationRequest(r.prompt, r.steps, r.guidance, seed(r));
    }

    static ImageResult result(ImageRequest r, GeneratedImage g) {
        ImageResult res = new ImageResult();
        res.id = r.id;
        res.key = r.key;
        res.prompt = r.prompt;
        res.png = g.png();
        res.steps = g.steps();
        res.guidance = g.guidance();
        res.seed = g.request().seed();
        return res;
    }

    /** The request's seed, else one derived from its id: a request replayed after a failover draws the same image. */
    static long seed(ImageRequest r) {
        if (r.seed != null) return r.seed;
        long h = 1125899906842597L;
        for (int i = 0; i < r.id.length(); i++) h = 31 * h + r.id.charAt(i);
        return h;
    }

    @Override
    void served(ImageResult result, int batchSize, double latencyMs) {
        result.batchSize = batchSize;
        result.latencyMs = latencyMs;
    }
}
