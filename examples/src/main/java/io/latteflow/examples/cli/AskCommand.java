package io.latteflow.examples.cli;

import io.latteflow.model.ImageBytes;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code latte ask}: visual question answering on one image. */
@Command(name = "ask", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Answer a question about an image; prints the answer on stdout.")
public final class AskCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--image", required = true, paramLabel = "FILE",
            description = "The image (PNG, JPEG, BMP or GIF). Models trained here read it resized to their square size; "
                    + "a Qwen2-VL model reads it at its own aspect ratio (Qwen2VLImageProcessor's smart_resize).")
    Path image;

    @Option(names = "--question", required = true, paramLabel = "TEXT", description = "The question, e.g. \"what is this?\".")
    String question;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"--max-new-tokens", "--max-tokens"}, paramLabel = "N", defaultValue = "16",
            description = "Longest answer in tokens (greedy decoding). Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Override
    public Integer call() {
        if (maxTokens < 1) throw new ParameterException(spec.commandLine(), "--max-new-tokens must be >= 1, got " + maxTokens);
        BufferedImage img = read(image);
        PrintWriter err = spec.commandLine().getErr();
        try (LatteFlow flow = modelOptions.open(err)) {
            BufferedImage seen = flow.readableImage(img);
            if (seen.getWidth() != img.getWidth() || seen.getHeight() != img.getHeight()) {
                err.printf("Resizing %s from %dx%d to the model's %dx%d.%n", image, img.getWidth(), img.getHeight(), seen.getWidth(), seen.getHeight());
                err.flush();
            }
            img = seen;
            String answer;
            try {
                answer = flow.answer(VqaRequest.of(img, question).withMaxNewTokens(maxTokens));
            } catch (IllegalArgumentException e) {        // a question the model refuses, e.g. beyond its context
                throw new CliError(e.getMessage(), e);
            }
            if (answer.isEmpty()) err.println("(the model answered with no words)");
            err.flush();
            spec.commandLine().getOut().println(answer);
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    /** Largest image {@code ask} decodes, as {@code latte score}'s default: a bigger header is refused before decoding. */
    static final long MAX_IMAGE_PIXELS = 16_777_216L;

    static BufferedImage read(Path file) {
        if (!Files.isRegularFile(file)) throw new CliError("Image file '" + file + "' does not exist or is not a file");
        try {
            return ImageBytes.decode(Files.readAllBytes(file), MAX_IMAGE_PIXELS);
        } catch (ImageBytes.BadImage e) {
            throw new CliError("Image file '" + file + "': " + e.getMessage(), e);
        } catch (IOException e) {
            throw new CliError("Image file '" + file + "' cannot be read: " + e.getMessage(), e);
        }
    }
}
