package io.latteflow.flink;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteFlow;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Caption to image: admits prompts the model can read and settings in range, draws a batch in one sampling run.
 * Per-key defaults: a request with a {@code key} that sets {@code steps} or {@code guidance} makes them that key's
 * defaults (keyed state, checkpointed), and the key's later requests that leave them null get them, so a client
 * chooses its quality once instead of on every prompt.
 */
final class GenerateTask extends LatteTask<ImageRequest, ImageResult> {
    private static final long serialVersionUID = 1L;

    private transient ValueState<KeyDefaults> keyDefaults;

    /** A key's last explicit settings (a Flink POJO in keyed state). */
    public static class KeyDefaults {
        public Integer steps;
        public Double guidance;
    }

    @Override
    void open(KeyedStateStore state) {
        keyDefaults = state.getState(new ValueStateDescriptor<>("latte-key-defaults", TypeInformation.of(KeyDefaults.class)));
    }

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
        if (!flow.canGenerate()) throw new Refused(flow.generationRefusal());
        String why = o.limits().generationRefusal(r.prompt, r.steps, r.guidance);
        if (why != null) throw new Refused(why);
        String tooLong = flow.captionRefusal(r.prompt);
        if (tooLong != null) throw new Refused(tooLong);
        return withKeyDefaults(r);
    }

    /** Requests without a key are keyed by their id: no defaults, and no state left behind per request. */
    private ImageRequest withKeyDefaults(ImageRequest r) throws Refused {
        if (r.key == null || keyDefaults == null) return r;
        try {
            KeyDefaults d = keyDefaults.value();
            if (r.steps != null || r.guidance != null) {
                if (d == null) d = new KeyDefaults();
                if (r.steps != null) d.steps = r.steps;
                if (r.guidance != null) d.guidance = r.guidance;
                keyDefaults.update(d);
            }
            if (d == null) return r;
            ImageRequest out = r;
            if (r.steps == null && d.steps != null) out = out.withSteps(d.steps);
            if (r.guidance == null && d.guidance != null) out = out.withGuidance(d.guidance);
            return out;
        } catch (IOException e) {
            throw new Refused("the defaults of key " + r.key + " could not be read: " + e.getMessage());
        }
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
