package io.latteflow.examples.cli;

import io.latteflow.model.Images;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import javax.imageio.ImageIO;
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
            description = "The image (PNG, JPEG, BMP or GIF); resized to the model's image size when it differs.")
    Path image;

    @Option(names = "--question", required = true, paramLabel = "TEXT", description = "The question, e.g. \"what is this?\".")
    String question;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "16",
            description = "Longest answer in tokens (greedy decoding). Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Override
    public Integer call() {
        if (maxTokens < 1) throw new ParameterException(spec.commandLine(), "--max-tokens must be >= 1, got " + maxTokens);
        BufferedImage img = read(image);
        PrintWriter err = spec.commandLine().getErr();
        try (LatteFlow flow = modelOptions.open(err)) {
            int size = flow.config().imageSize();
            if (img.getWidth() != size || img.getHeight() != size) {
                err.printf("Resizing %s from %dx%d to the model's %dx%d.%n", image, img.getWidth(), img.getHeight(), size, size);
                err.flush();
                img = Images.resize(img, size);
            }
            String answer = flow.answer(VqaRequest.of(img, question).withMaxNewTokens(maxTokens));
            if (answer.isEmpty()) err.println("(the model answered with no words)");
            err.flush();
            spec.commandLine().getOut().println(answer);
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    static BufferedImage read(Path file) {
        if (!Files.isRegularFile(file)) throw new CliError("Image file '" + file + "' does not exist or is not a file");
        try {
            BufferedImage img = ImageIO.read(file.toFile());
            if (img == null) throw new CliError("Image file '" + file + "' is not in a format Java can read (PNG, JPEG, BMP, GIF)");
            return img;
        } catch (IOException e) {
            throw new CliError("Image file '" + file + "' cannot be read: " + e.getMessage(), e);
        }
    }
}
