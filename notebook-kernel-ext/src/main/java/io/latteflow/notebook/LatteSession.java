package io.latteflow.notebook;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationListener;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.RequestLimits;
import io.latteflow.model.Images;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The model a notebook works with, and the plain Java API behind the {@code %latte} magics: it runs in any Java
 * kernel (or none), and its results are ordinary objects.
 *
 * <pre>{@code
 * LatteSession s = LatteNotebook.session();
 * s.loadDefault();
 * GeneratedImage img = s.generate(GenerationRequest.of("a red apple").withSeed(1));
 * Answer a = s.ask(img.image(), "what is this?");
 * }</pre>
 */
public final class LatteSession implements AutoCloseable {
    /** The shipped model, relative to the project root. */
    public static final Path DEFAULT_MODEL = Path.of("models", "latte-emoji");
    /** Environment variable naming the model {@code %latte load} uses when given no directory. */
    public static final String MODEL_ENV = "LATTE_MODEL";

    private LatteFlow flow;
    private String source;
    private GeneratedImage last;

    /** Loads a model directory; a missing or unreadable one is a {@link LatteNotebookException}. */
    public synchronized LoadedModel load(Path dir) {
        if (!Files.isDirectory(dir)) throw new LatteNotebookException("no model directory " + dir.toAbsolutePath().normalize());
        try {
            replace(LatteFlow.load(dir), dir.toString());
        } catch (IOException | RuntimeException e) {
            throw new LatteNotebookException("cannot load the model in " + dir + ": " + e.getMessage(), e);
        }
        return new LoadedModel(source, flow.config(), null);
    }

    /**
     * Loads {@code $LATTE_MODEL}, else {@code models/latte-emoji} found from the working directory upwards; when
     * neither is found (a kernel started outside the repository) it says so and uses an untrained tiny model, whose
     * pictures are noise but on which everything runs.
     */
    public synchronized LoadedModel loadDefault() {
        String env = System.getenv(MODEL_ENV);
        if (env != null && !env.isBlank()) return load(Path.of(env));
        Optional<Path> shipped = findUpwards(Path.of("").toAbsolutePath(), DEFAULT_MODEL);
        if (shipped.isPresent()) return load(shipped.get());
        replace(LatteFlow.create(LatteConfig.tiny(), 42), "untrained tiny model (LatteConfig.tiny(), seed 42)");
        return new LoadedModel(source, flow.config(), DEFAULT_MODEL + " was not found from " + Path.of("").toAbsolutePath() + " upwards, so this is an"
                + " untrained tiny model: its pictures are noise; set " + MODEL_ENV + " or run %latte load <dir> for a trained one");
    }

    private static Optional<Path> findUpwards(Path from, Path relative) {
        for (Path dir = from; dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve(relative))) return Optional.of(dir.resolve(relative));
        }
        return Optional.empty();
    }

    private void replace(LatteFlow next, String from) {
        if (flow != null) flow.close();
        flow = next;
        source = from;
    }

    /** Uses an already built model, e.g. one made with {@code LatteFlow.create} in the notebook. */
    public synchronized void use(LatteFlow model, String description) {
        replace(model, description);
    }

    public synchronized LatteFlow flow() {
        if (flow == null) throw new LatteNotebookException("no model loaded: run %latte load [dir] first");
        return flow;
    }

    public synchronized boolean loaded() {
        return flow != null;
    }

    public GeneratedImage generate(GenerationRequest request) {
        return generate(List.of(request), null).get(0);
    }

    public List<GeneratedImage> generate(List<GenerationRequest> requests, GenerationListener listener) {
        check(requests);
        List<GeneratedImage> images = flow().generate(requests, listener);
        synchronized (this) {
            last = images.get(images.size() - 1);
        }
        return images;
    }

    /**
     * Refuses, before any work, what the model would refuse part-way: the core's limits and words, as on every front
     * door, a caption longer than the model's context, a model that cannot draw (issue 19: an over-long prompt failed
     * in the prefill, after the cell's progress display was up, as an IllegalArgumentException).
     *
     * @throws LatteNotebookException with one line naming the problem (and the prompt, when a cell has several)
     */
    public void check(List<GenerationRequest> requests) {
        LatteFlow f = flow();
        if (!f.canGenerate()) throw new LatteNotebookException(f.generationRefusal());
        for (GenerationRequest r : requests) {
            String why = RequestLimits.DEFAULTS.refusal(r);
            if (why == null) why = f.captionRefusal(r.prompt());
            if (why != null) {
                boolean several = requests.stream().map(GenerationRequest::prompt).distinct().count() > 1;
                throw new LatteNotebookException(several ? why + " (prompt '" + shortened(r.prompt()) + "')" : why);
            }
        }
    }

    /**
     * Refuses a question before any work: the core's limits, and for a model trained here a prompt (image tokens and
     * question) longer than its context; a Qwen2-VL model checks its own before it encodes the image.
     */
    public void checkQuestion(String question) {
        String why = RequestLimits.DEFAULTS.questionRefusal(question);
        if (why != null) throw new LatteNotebookException(why);
        LatteFlow f = flow();
        if (f.chat() == null) {
            int tokens = f.questionPrompt(question).length, max = f.config().maxContextTokens();
            if (tokens > max) {
                throw new LatteNotebookException("the question's prompt (image and question) is " + tokens + " tokens long, more than the model's " + max);
            }
        }
    }

    private static String shortened(String prompt) {
        return prompt.length() <= 40 ? prompt : prompt.substring(0, 37) + "...";
    }

    /** The requests drawn in one batch, as a captioned grid. */
    public PromptGrid grid(List<GenerationRequest> requests) {
        return new PromptGrid(generate(requests, null));
    }

    /** Asks about any image; it is resized to the size the model reads first. */
    public Answer ask(BufferedImage image, String question) {
        LatteFlow f = flow();
        checkQuestion(question);
        BufferedImage seen = f.readableImage(image);
        try {
            return new Answer(seen, question, f.answer(RequestLimits.DEFAULTS.check(VqaRequest.of(seen, question))));
        } catch (IllegalArgumentException e) {          // a question the model refuses, e.g. beyond a Qwen2-VL's context
            throw new LatteNotebookException(e.getMessage(), e);
        }
    }

    public ModelInfo info() {
        LatteFlow f = flow();
        return ModelInfo.of(f, source);
    }

    /** The most recent generated image, if any: what {@code %latte ask _} refers to. */
    public synchronized Optional<GeneratedImage> last() {
        return Optional.ofNullable(last);
    }

    @Override
    public synchronized void close() {
        if (flow != null) flow.close();
        flow = null;
        last = null;
    }

    /**
     * The outcome of a load.
     *
     * <pre>{@code
     * LoadedModel m = session.loadDefault();
     * if (m.note() != null) System.out.println(m.note());
     * }</pre>
     *
     * @param note why this is not the model that was asked for, or null
     */
    public record LoadedModel(String source, LatteConfig config, String note) {
        @Override
        public String toString() {
            return "loaded " + source + " (" + config.genImageSize() + "x" + config.genImageSize() + " images, "
                    + config.numLayers() + " layers in " + config.groups() + " expert groups)" + (note == null ? "" : "\n" + note);
        }
    }
}
