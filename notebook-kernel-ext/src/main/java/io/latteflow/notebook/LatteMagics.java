package io.latteflow.notebook;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationListener;
import io.latteflow.model.GenerationRequest;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The {@code %latte} and {@code %%latte} magics, independent of any kernel: they show their results on a
 * {@link NotebookOutput} and also return them, so {@code img = %latte generate "..."} keeps the object. Every failure
 * becomes one line of error text; nothing is thrown into the kernel.
 *
 * <pre>{@code
 * LatteMagics magics = new LatteMagics(LatteNotebook.session(), output, name -> Optional.empty());
 * Object img = magics.run(List.of("generate", "a red apple", "--steps", "8"), null);
 * }</pre>
 */
public final class LatteMagics {
    /** Previews per generation: enough to watch the picture form without decoding at every step. */
    private static final int PREVIEWS = 4;

    private final LatteSession session;
    private final NotebookOutput out;
    private final Function<String, Optional<Object>> variables;

    /** @param variables the kernel's notebook variables by name (empty when the kernel cannot say) */
    public LatteMagics(LatteSession session, NotebookOutput out, Function<String, Optional<Object>> variables) {
        this.session = session;
        this.out = out;
        this.variables = variables;
    }

    /**
     * Runs one invocation.
     *
     * @param args the words after the magic's name
     * @param body the cell body of {@code %%latte}, or null for {@code %latte}
     * @return what was shown (an image, grid, answer, info or load result), or null after an error
     */
    public Object run(List<String> args, String body) {
        try {
            return execute(LatteCommand.parse(args, body));
        } catch (LatteNotebookException e) {
            out.error("latte: " + oneLine(e.getMessage()));
        } catch (Exception | LinkageError e) {
            // A bug or an environment problem (natives, memory): still one line, with the type to search for.
            out.error("latte: " + e.getClass().getSimpleName() + ": " + oneLine(String.valueOf(e.getMessage())));
        }
        return null;
    }

    private static String oneLine(String message) {
        return message.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    private Object execute(LatteCommand command) {
        Object result;
        if (command instanceof LatteCommand.Load l) {
            result = l.dir().map(d -> session.load(Path.of(d))).orElseGet(session::loadDefault);
        } else if (command instanceof LatteCommand.Generate g) {
            result = generate(g);
        } else if (command instanceof LatteCommand.Ask a) {
            session.checkQuestion(a.question());            // a bad question is refused before the image is read
            result = session.ask(ImageRefs.resolve(a.image(), session, variables), a.question());
        } else {
            result = session.info();
        }
        out.show(result);
        return result;
    }

    private Object generate(LatteCommand.Generate g) {
        List<GenerationRequest> requests = g.requests();
        session.check(requests);                            // refused before the progress display or any sampling
        int steps = requests.get(0).steps() != null ? requests.get(0).steps() : session.flow().config().defaultSteps();
        NotebookOutput.LiveDisplay live = out.live(new SamplingProgress(g.prompts(), 0, steps, List.of(), 0));
        long start = System.nanoTime();
        List<BufferedImage> latest = new ArrayList<>();
        GenerationListener listener = GenerationListener.withPreviews(Math.max(1, steps / PREVIEWS), p -> {
            if (p.hasPreview()) {
                latest.clear();
                latest.addAll(p.previews());
            }
            live.update(new SamplingProgress(g.prompts(), p.step(), p.steps(), latest, (System.nanoTime() - start) / 1_000_000));
        });
        List<GeneratedImage> images = session.generate(requests, listener);
        return g.grid() ? new PromptGrid(images) : images.get(0);
    }
}
