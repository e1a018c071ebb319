package io.latteflow.examples.cli;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.RequestLimits;
import io.latteflow.model.LatteFlow;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code latte generate}: caption to PNG. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Draw an image from a caption and write it as a PNG.")
public final class GenerateCommand implements Callable<Integer> {
    /** Most images one run draws: their file names are checked before any work, one by one (issue 19). */
    static final int MAX_COUNT = 100_000;
    /** Most images one model call draws: --count 10000 in one call grew to 10 GB (issue 19). */
    static final int MAX_BATCH = 1024;

    @Spec
    CommandSpec spec;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT",
            description = "The caption to draw (1 to 500 characters; an empty one is refused).")
    String prompt;

    @Option(names = "--out", required = true, paramLabel = "FILE.png",
            description = "Where to write the PNG (with --count N: FILE-1.png .. FILE-N.png); an existing file needs --force.")
    Path out;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--steps", paramLabel = "N",
            description = "Euler sampling steps T' (1 to 1000). Default: the model's (20 for bench, 8 for tiny).")
    Integer steps;

    @Option(names = "--cfg", paramLabel = "S",
            description = "Classifier-free guidance scale (0 to 50; 1 = no guidance). Default: the model's (bench 5, tiny 3).")
    Double cfg;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0",
            description = "Noise seed; image i of --count gets seed K+i-1. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1",
            description = "Images to draw, in batches of --batch; each batch's files are written when it finishes. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "" + RequestLimits.DEFAULT_BATCH_SIZE,
            description = "Images per model call with --count (memory grows with it). Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--force", description = "Overwrite output files that exist already.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        // The core's limits and words (issue 17), checked before the model is loaded; the flag is named too.
        String why = RequestLimits.DEFAULTS.generationRefusal(prompt, steps, cfg);
        if (why != null) throw bad(ModelOptions.optionOf(why) + ": " + why);
        if (count < 1) throw bad("--count must be >= 1, got " + count);
        if (count > MAX_COUNT) {
            throw bad("--count " + count + " is more than " + MAX_COUNT + " images; draw them in several runs (--seed K+" + MAX_COUNT
                    + " continues where --seed K stopped)");
        }
        if (batch < 1) throw bad("--batch must be >= 1, got " + batch);
        if (batch > MAX_BATCH) throw bad("--batch " + batch + " is more than " + MAX_BATCH + " images per model call (memory grows with it)");
        PrintWriter err = spec.commandLine().getErr();
        List<Path> files = Outputs.numbered(out, count);
        OutputPaths.requireWritableFiles("--out", files, force);
        try (LatteFlow flow = modelOptions.open(err)) {
            if (!flow.canGenerate()) throw new CliError(flow.generationRefusal());
            String tooLong = flow.captionRefusal(prompt);
            if (tooLong != null) throw new CliError("--prompt: " + tooLong);
            long start = System.nanoTime();
            GeneratedImage first = null;
            // Batches bound the memory (issue 19: --count 10000 in one batch grew to 10 GB and wrote nothing).
            try (ProgressBar bar = count > batch ? Progress.bar("generate", count, " images", err) : null) {
                for (int from = 0; from < count; from += batch) {
                    List<GenerationRequest> requests = new ArrayList<>();
                    for (int i = from; i < Math.min(count, from + batch); i++) requests.add(request(seed + i));
                    List<GeneratedImage> images = flow.generate(requests);
                    for (int k = 0; k < images.size(); k++) {
                        Outputs.writeAtomically(files.get(from + k), images.get(k).png());
                        spec.commandLine().getOut().println(files.get(from + k));
                    }
                    spec.commandLine().getOut().flush();
                    if (first == null) first = images.get(0);
                    if (bar != null) bar.stepTo(from + images.size());
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            err.printf("Drew %d image(s) of %dx%d in %.2f s (%d steps, cfg %s).%n", count, flow.config().genImageSize(),
                    flow.config().genImageSize(), seconds, first.steps(), first.guidance());
            err.flush();
        }
        return 0;
    }

    private GenerationRequest request(long imageSeed) {
        GenerationRequest r = GenerationRequest.of(prompt).withSeed(imageSeed);
        if (steps != null) r = r.withSteps(steps);
        if (cfg != null) r = r.withGuidance(cfg);
        return r;
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
