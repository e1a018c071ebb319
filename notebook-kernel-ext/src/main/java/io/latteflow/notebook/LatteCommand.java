package io.latteflow.notebook;

import io.latteflow.model.GenerationRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One parsed {@code %latte} / {@code %%latte} invocation. Parsing only checks the words; it never touches a model.
 *
 * <pre>{@code
 * LatteCommand c = LatteCommand.parse(List.of("generate", "a cat", "--steps", "8"), null);
 * // c is Generate[prompts=[a cat], options=Options[steps=8, ...]]
 * }</pre>
 */
public sealed interface LatteCommand {
    /** Most images one cell draws: four model batches of {@link io.latteflow.model.RequestLimits#DEFAULT_BATCH_SIZE}. */
    int MAX_IMAGES_PER_CELL = 4 * io.latteflow.model.RequestLimits.DEFAULT_BATCH_SIZE;

    String USAGE = "%latte load [dir] | generate \"prompt\" [--steps N --cfg S --seed K --n N] | answer (or ask) <image variable or path> \"question\""
            + " | info; %%latte generate [options] with one prompt per line";

    /** {@code %latte load [dir]}; no dir means the default model. */
    record Load(Optional<String> dir) implements LatteCommand {
    }

    /** {@code %latte generate} (one prompt) or {@code %%latte generate} (one prompt per body line). */
    record Generate(List<String> prompts, Options options, boolean grid) implements LatteCommand {
        /** Each prompt {@code n} times with seeds seed, seed + 1, ...; prompt-major order. */
        public List<GenerationRequest> requests() {
            List<GenerationRequest> out = new ArrayList<>();
            for (String p : prompts) {
                for (int i = 0; i < options.n(); i++) {
                    GenerationRequest r = GenerationRequest.of(p).withSeed(options.seed() + i);
                    if (options.steps() != null) r = r.withSteps(options.steps());
                    if (options.cfg() != null) r = r.withGuidance(options.cfg());
                    out.add(r);
                }
            }
            return out;
        }
    }

    /** {@code %latte ask <image> "question"}. */
    record Ask(String image, String question) implements LatteCommand {
    }

    /** {@code %latte info}. */
    record Info() implements LatteCommand {
    }

    /**
     * Sampling options; null steps or cfg mean the model's defaults.
     *
     * <pre>{@code
     * Options o = new Options(8, 3.0, 7, 2);
     * }</pre>
     */
    record Options(Integer steps, Double cfg, long seed, int n) {
    }

    /**
     * @param args the words after {@code %latte} (or {@code %%latte}), quotes already removed by the kernel
     * @param body the cell body for {@code %%latte}, null for a line magic
     */
    static LatteCommand parse(List<String> args, String body) {
        if (args.isEmpty()) throw new LatteNotebookException("missing subcommand; usage: " + USAGE);
        String sub = args.get(0);
        List<String> rest = args.subList(1, args.size());
        if (body != null && !sub.equals("generate")) {
            throw new LatteNotebookException("%%latte only supports generate (one prompt per line), not '" + sub + "'");
        }
        return switch (sub) {
            case "load" -> {
                if (rest.size() > 1) throw new LatteNotebookException("%latte load takes at most one directory, got " + rest.size() + " words");
                if (!rest.isEmpty() && rest.get(0).startsWith("--")) throw new LatteNotebookException("%latte load has no option " + rest.get(0));
                if (!rest.isEmpty()) {
                    try {
                        java.nio.file.Path.of(rest.get(0));
                    } catch (java.nio.file.InvalidPathException e) {  // loaded later as Path.of(dir): refused here, in words
                        throw new LatteNotebookException("%latte load: '" + rest.get(0) + "' is not a path: " + e.getReason());
                    }
                }
                yield new Load(rest.stream().findFirst());
            }
            case "generate" -> generate(rest, body);
            case "answer", "ask" -> {                  // answer, as on every front door; ask, the first release's name
                if (rest.isEmpty()) throw new LatteNotebookException("%latte " + sub + " needs an image variable or path and a question");
                if (rest.size() < 2) throw new LatteNotebookException("%latte " + sub + " " + rest.get(0) + " needs a question after the image, e.g. \"what is this?\"");
                yield new Ask(rest.get(0), String.join(" ", rest.subList(1, rest.size())));
            }
            case "info" -> {
                if (!rest.isEmpty()) throw new LatteNotebookException("%latte info takes no arguments, got '" + String.join(" ", rest) + "'");
                yield new Info();
            }
            default -> throw new LatteNotebookException("unknown subcommand '" + sub + "'; usage: " + USAGE);
        };
    }

    private static Generate generate(List<String> words, String body) {
        Integer steps = null;
        Double cfg = null;
        long seed = 0;
        int n = 1;
        List<String> prompt = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (!w.startsWith("--")) {
                prompt.add(w);
                continue;
            }
            String name = w.substring(2), value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= words.size()) throw new LatteNotebookException("--" + name + " needs a value");
                value = words.get(++i);
            }
            switch (name) {
                case "steps" -> steps = positiveInt("--steps", value);
                case "n" -> n = positiveInt("--n", value);
                case "seed" -> seed = longValue(value);
                case "cfg" -> cfg = guidance(value);
                default -> throw new LatteNotebookException("unknown option --" + name + " for generate (use --steps, --cfg, --seed, --n)");
            }
        }
        Options options = new Options(steps, cfg, seed, n);
        if (body == null) {
            if (prompt.isEmpty()) throw new LatteNotebookException("%latte generate needs a prompt, e.g. %latte generate \"a red apple\"");
            return checked(new Generate(List.of(String.join(" ", prompt)), options, n > 1));
        }
        if (!prompt.isEmpty()) {
            throw new LatteNotebookException("%%latte generate takes its prompts from the cell body, one per line; unexpected '" + String.join(" ", prompt) + "'");
        }
        List<String> prompts = body.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (prompts.isEmpty()) throw new LatteNotebookException("%%latte generate needs at least one prompt line in the cell body");
        return checked(new Generate(prompts, options, true));
    }

    /**
     * A cell's images are drawn as one batch and shown as one grid, so their number is bounded (issue 19: an unbounded
     * count grew one batch to 10 GB on the command line).
     */
    private static Generate checked(Generate g) {
        long images = (long) g.prompts().size() * g.options().n();
        if (images > MAX_IMAGES_PER_CELL) {
            throw new LatteNotebookException("%latte generate draws at most " + MAX_IMAGES_PER_CELL + " images per cell (one grid), got "
                    + images + "; draw more with 'latte generate --count' or Arrow scoring");
        }
        return g;
    }

    private static int positiveInt(String option, String value) {
        try {
            int v = Integer.parseInt(value);
            if (v >= 1) return v;
        } catch (NumberFormatException ignored) {
            // reported below with the option's name
        }
        throw new LatteNotebookException(option + " must be a whole number >= 1, got '" + value + "'");
    }

    private static long longValue(String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new LatteNotebookException("--seed must be a whole number, got '" + value + "'");
        }
    }

    private static double guidance(String value) {
        try {
            double v = Double.parseDouble(value);
            if (Double.isFinite(v) && v >= 0) return v;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new LatteNotebookException("--cfg must be a number >= 0, got '" + value + "'");
    }
}
