package io.latteflow.flink;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One saved tiny model per test JVM (untrained: its pictures are noise, but every path runs). */
final class TinyModel {
    private static Path dir;
    private static LatteFlow direct;

    private TinyModel() {
    }

    static synchronized Path dir() {
        if (dir == null) {
            try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 42)) {
                Path d = Files.createTempDirectory("latte-flink-tiny");
                flow.save(d);
                d.toFile().deleteOnExit();
                dir = d;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    static LatteOptions.Builder options() {
        return LatteOptions.builder().model(dir().toString());
    }

    /** The PNG the model draws for this request when called directly. */
    static synchronized byte[] direct(ImageRequest r) {
        GeneratedImage g = flow().generate(new GenerationRequest(r.prompt, r.steps, r.guidance, GenerateTask.seed(r)));
        return g.png();
    }

    /** A copy of the model outside Flink, loaded once, for direct calls to compare with. */
    static synchronized LatteFlow flow() {
        if (direct == null) {
            try {
                direct = LatteFlow.load(dir());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return direct;
    }
}
