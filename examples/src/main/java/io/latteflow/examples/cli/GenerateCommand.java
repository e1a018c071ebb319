package io.latteflow.examples.cli;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.RequestLimits;
import io.latteflow.model.LatteFlow;
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
    @Spec
    CommandSpec spec;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT",
            description = "The caption to draw; \"\" draws an unconditional image.")
    String prompt;

    @Option(names = "--out", required = true, paramLabel = "FILE.png",
            description = "Where to write the PNG (with --count N: FILE-1.png .. FILE-N.png).")
    Path out;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--steps", paramLabel = "N",
            description = "Euler sampling steps T' (>= 1). Default: the model's (20 for bench, 8 for tiny).")
    Integer steps;

    @Option(names = "--cfg", paramLabel = "S",
            description = "Classifier-free guidance scale (finite, >= 0; 1 = no guidance). Default: the model's (bench 5, tiny 3).")
    Double cfg;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0",
            description = "Noise seed; image i of --count gets seed K+i-1. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1",
            description = "Images to draw in one batch. Default: ${DEFAULT-VALUE}.")
    int count;

    @Override
    public Integer call() throws Exception {
        // The core's limits and words (issue 17), checked before the model is loaded; the flag is named too.
        String why = RequestLimits.DEFAULTS.generationRefusal(prompt, steps, cfg);
        if (why != null) throw bad((why.startsWith("steps") ? "--steps" : why.startsWith("guidance") ? "--cfg" : "--prompt") + ": " + why);
        if (count < 1) throw bad("--count must be >= 1, got " + count);
        PrintWriter err = spec.commandLine().getErr();
        List<Path> files = Outputs.numbered(out, count);
        try (LatteFlow flow = modelOptions.open(err)) {
            if (!flow.canGenerate()) throw new CliError(flow.generationRefusal());
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                GenerationRequest r = GenerationRequest.of(prompt).withSeed(seed + i);
                if (steps != null) r = r.withSteps(steps);
                if (cfg != null) r = r.withGuidance(cfg);
                requests.add(r);
            }
            long start = System.nanoTime();
            List<GeneratedImage> images = flow.generate(requests);
            double seconds = (System.nanoTime() - start) / 1e9;
            for (int i = 0; i < count; i++) {
                Outputs.writeAtomically(files.get(i), images.get(i).png());
                spec.commandLine().getOut().println(files.get(i));
            }
            GeneratedImage first = images.get(0);
            err.printf("Drew %d image(s) of %dx%d in %.2f s (%d steps, cfg %s).%n", count, flow.config().genImageSize(),
                    flow.config().genImageSize(), seconds, first.steps(), first.guidance());
            err.flush();
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
