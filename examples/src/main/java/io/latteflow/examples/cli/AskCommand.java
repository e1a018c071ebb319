package io.latteflow.examples.cli;

import io.latteflow.model.ImageBytes;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.RequestLimits;
import io.latteflow.model.hf.Qwen2VlChat;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code latte answer} (alias {@code ask}): visual question answering on one image, the operation every front door calls answer. */
@Command(name = "answer", aliases = "ask", mixinStandardHelpOptions = true, sortOptions = false,
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

    @Option(names = "--timing", paramLabel = "FILE",
            description = "Also write a JSON object of timings to FILE: load, prefill (a one-token answer), total and per "
                    + "generated token seconds, and the answer's token ids (Qwen2-VL chat models; used by "
                    + "examples/paper-scale/full-size-check.sh).")
    Path timing;

    @Override
    public Integer call() {
        if (maxTokens < 1 || maxTokens > RequestLimits.DEFAULTS.maxNewTokens()) {       // the core's limit (issue 19)
            throw new ParameterException(spec.commandLine(), "--max-new-tokens must be in [1, " + RequestLimits.DEFAULTS.maxNewTokens()
                    + "], got " + maxTokens);
        }
        // Bad input is refused before the model loads (issue 19), in the core's words.
        String why = RequestLimits.DEFAULTS.questionRefusal(question);
        if (why != null) throw new ParameterException(spec.commandLine(), "--question: " + why);
        if (timing != null) OutputPaths.requireWritableFiles("--timing", List.of(timing), null);
        BufferedImage img = read(image);
        PrintWriter err = spec.commandLine().getErr();
        long loadStart = System.nanoTime();
        try (LatteFlow flow = modelOptions.open(err)) {
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            BufferedImage seen = flow.readableImage(img);
            if (seen.getWidth() != img.getWidth() || seen.getHeight() != img.getHeight()) {
                err.printf("Resizing %s from %dx%d to the model's %dx%d.%n", image, img.getWidth(), img.getHeight(), seen.getWidth(), seen.getHeight());
                err.flush();
            }
            img = seen;
            String answer;
            try {
                answer = timing != null && flow.chat() != null ? timed(flow, img, loadSeconds)
                        : flow.answer(VqaRequest.of(img, question).withMaxNewTokens(maxTokens));
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

    /**
     * Answers through the chat three times: a warm-up of one token (graphs are built on first use), one token again
     * (the prefill), then the whole answer; prefill and per-token times follow from the last two.
     */
    private String timed(LatteFlow flow, BufferedImage img, double loadSeconds) {
        Qwen2VlChat chat = flow.chat();
        Qwen2VlChat.Prompt prompt = chat.prompt(Qwen2VlChat.question(question), List.of(img));
        chat.generate(List.of(prompt), chat.decoding(2, 0, 1), new long[1]);     // builds the prefill and decode graphs
        long t0 = System.nanoTime();
        chat.generate(List.of(prompt), chat.decoding(1, 0, 1), new long[1]);
        long t1 = System.nanoTime();
        int[] ids = chat.generate(List.of(prompt), chat.decoding(maxTokens, 0, 1), new long[1])[0];
        long t2 = System.nanoTime();
        double prefill = (t1 - t0) / 1e9, total = (t2 - t1) / 1e9;
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("engine", "latte (ND4J/SameDiff, OMP_NUM_THREADS=" + System.getenv().getOrDefault("OMP_NUM_THREADS", "unset")
                + ", OPENBLAS_CORETYPE=" + System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset") + ")");
        json.put("prompt_tokens", prompt.ids().length);
        json.put("load_s", loadSeconds);
        json.put("prefill_s", prefill);
        json.put("total_s", total);
        json.put("new_tokens", ids.length);
        json.put("ids", ids);
        json.put("per_token_s", (total - prefill) / Math.max(1, ids.length - 1));
        try {
            new ObjectMapper().writeValue(timing.toFile(), json);
        } catch (IOException e) {
            throw new CliError("Cannot write --timing file '" + timing + "': " + e.getMessage(), e);
        }
        return flow.tokenizer().decode(ids).trim();
    }

    /** Largest image {@code ask} decodes, as {@code latte score}'s default: a bigger header is refused before decoding. */
    static final long MAX_IMAGE_PIXELS = RequestLimits.DEFAULTS.maxImagePixels();

    /** Read through the core's one image reader: streamed, never whole into memory, size checked before decoding. */
    static BufferedImage read(Path file) {
        if (!Files.isRegularFile(file)) throw new CliError("Image file '" + file + "' does not exist or is not a file");
        try {
            return ImageBytes.read(file, MAX_IMAGE_PIXELS);
        } catch (ImageBytes.BadImage e) {
            throw new CliError("Image file '" + file + "': " + e.getMessage(), e);
        } catch (IOException e) {
            throw new CliError("Image file '" + file + "' cannot be read: " + e.getMessage(), e);
        }
    }
}
