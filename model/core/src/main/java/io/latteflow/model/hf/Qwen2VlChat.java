package io.latteflow.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.io.LatteTokenizer;
import io.latteflow.model.vlm.PromptBatch;
import io.latteflow.model.vlm.VisionLanguageModel;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Visual question answering the way a Qwen2-VL-Instruct checkpoint is meant to be asked: the conversation rendered
 * by the checkpoint's own {@link ChatTemplate}, each {@code <|image_pad|>} expanded to the image's tokens, images of
 * any size through {@link ImageProcessor}, M-RoPE positions as transformers' {@code get_rope_index} gives them for
 * images anywhere in the prompt, KV-cached decoding that stops at the eos ids of {@code generation_config.json}.
 * Prompts of different lengths and image sizes share one batch (right-padded, masked); each row's answer is the
 * one it gets alone.
 *
 * <pre>{@code
 * Qwen2VlChat chat = Qwen2VlChat.open(dir, config, vlm, tokenizer);
 * Qwen2VlChat.Prompt p = chat.prompt(Qwen2VlChat.question("What is in this picture?"), List.of(image));
 * String answer = chat.tokenizer().decode(chat.generate(List.of(p), chat.greedy(64), new long[1])[0]);
 * }</pre>
 */
public final class Qwen2VlChat {
    private final LatteConfig c;
    private final VisionLanguageModel vlm;
    private final LatteTokenizer tokenizer;
    private final ChatTemplate template;
    private final ImageProcessor processor;
    private final Set<Integer> eos;
    private final int imagePad, videoPad;

    public Qwen2VlChat(LatteConfig c, VisionLanguageModel vlm, LatteTokenizer tokenizer, ChatTemplate template,
                       ImageProcessor processor, Set<Integer> eos) {
        this.c = c;
        this.vlm = vlm;
        this.tokenizer = tokenizer;
        this.template = template;
        this.processor = processor;
        this.eos = Set.copyOf(eos);
        this.imagePad = tokenizer.imagePad();
        this.videoPad = tokenizer.idOf("<|video_pad|>");
    }

    /** True when {@code dir} carries what this chat needs beside the weights (an image processor config). */
    public static boolean available(Path dir) {
        return Files.isRegularFile(dir.resolve("preprocessor_config.json"));
    }

    /**
     * The chat of a folder: its chat template, {@code preprocessor_config.json} (images above
     * {@link ImageProcessor#DEFAULT_MAX_PIXELS}, or the system property {@code latte.maxImagePixels}, are resized
     * down to it) and the stop ids of {@code generation_config.json}.
     */
    public static Qwen2VlChat open(Path dir, LatteConfig c, VisionLanguageModel vlm, LatteTokenizer tokenizer) throws IOException {
        long cap = Long.getLong("latte.maxImagePixels", ImageProcessor.DEFAULT_MAX_PIXELS);
        return new Qwen2VlChat(c, vlm, tokenizer, ChatTemplate.read(dir), ImageProcessor.read(dir, c).withMaxPixels(cap),
                stopIds(dir, tokenizer));
    }

    /** eos_token_id of generation_config.json (an id or a list), else of config.json, else {@code <|im_end|>}. */
    static Set<Integer> stopIds(Path dir, LatteTokenizer tokenizer) throws IOException {
        Set<Integer> ids = new LinkedHashSet<>();
        for (String name : new String[]{"generation_config.json", "config.json"}) {
            Path file = dir.resolve(name);
            if (!ids.isEmpty() || !Files.isRegularFile(file)) continue;
            JsonNode eos = new ObjectMapper().readTree(file.toFile()).get("eos_token_id");
            if (eos != null && eos.isArray()) eos.forEach(e -> ids.add(e.asInt()));
            else if (eos != null && eos.canConvertToInt()) ids.add(eos.asInt());
        }
        if (ids.isEmpty()) ids.add(tokenizer.imEnd());
        return ids;
    }

    /** A one-turn conversation: an image, then the question (how Qwen's own examples ask). */
    public static List<Map<String, Object>> question(String question) {
        return List.of(Map.of("role", "user", "content", List.of(Map.of("type", "image"), Map.of("type", "text", "text", question))));
    }

    /**
     * A tokenised prompt: its ids, M-RoPE position triples (3, n), the position the first answer token gets, and
     * its images' patch rows in prompt order.
     */
    public record Prompt(int[] ids, long[][] positions, long nextPos, List<ImageProcessor.Pixels> images) {
    }

    /** Renders, tokenises and places {@code images} (one per image part of the conversation, in order). */
    public Prompt prompt(List<Map<String, Object>> messages, List<BufferedImage> images) {
        String text = template.render(messages, true);
        String[] parts = text.split(java.util.regex.Pattern.quote("<|image_pad|>"), -1);
        if (parts.length - 1 != images.size()) {
            throw new IllegalArgumentException("The prompt has " + (parts.length - 1) + " image placeholders but "
                    + images.size() + " images were given");
        }
        List<ImageProcessor.Pixels> pixels = new ArrayList<>();
        int length = 0;
        List<int[]> pieces = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            // Special tokens split the text before BPE runs, so encoding the pieces apart gives the same ids.
            int[] ids = tokenizer.encode(parts[i]);
            for (int id : ids) {
                if (id == videoPad) throw new IllegalArgumentException("Video input is not supported: the prompt holds <|video_pad|>");
                if (id == imagePad) throw new IllegalArgumentException("The prompt text holds an image placeholder of its own");
            }
            pieces.add(ids);
            length += ids.length;
            if (i < images.size()) {
                BufferedImage image = images.get(i);
                if (image == null) throw new IllegalArgumentException("image " + (i + 1) + " is null");
                int[] size = processor.smartResize(image.getHeight(), image.getWidth());
                int tokens = size[0] * size[1] / (c.patchSize() * c.patchSize() * c.spatialMergeSize() * c.spatialMergeSize());
                length += tokens;
                pieces.add(null);
                pixels.add(null);
            }
        }
        // The context limit is checked before any image is resampled or encoded.
        if (length > c.maxContextTokens()) {
            throw new IllegalArgumentException("Prompt of " + length + " tokens exceeds the context limit of "
                    + c.maxContextTokens() + " tokens (max_position_embeddings)");
        }
        int[] ids = new int[length];
        long[][] pos = new long[3][length];
        int at = 0, image = 0;
        long next = 0;
        for (int[] piece : pieces) {
            if (piece != null) {
                for (int id : piece) {
                    ids[at] = id;
                    pos[0][at] = pos[1][at] = pos[2][at] = next++;
                    at++;
                }
                continue;
            }
            ImageProcessor.Pixels px = processor.process(images.get(image));
            pixels.set(image++, px);
            int m = px.merge(), gh = px.gridH() / m, gw = px.gridW() / m;
            for (int i = 0; i < gh * gw; i++) {            // (t, h, w) = (s, s + row, s + col); a still image has t = 0
                ids[at] = imagePad;
                pos[0][at] = next;
                pos[1][at] = next + i / gw;
                pos[2][at] = next + i % gw;
                at++;
            }
            next += Math.max(gh, gw);
        }
        return new Prompt(ids, pos, next, pixels);
    }

    /** Greedy decoding of at most {@code maxNewTokens}, stopping at this checkpoint's eos ids. */
    public VisionLanguageModel.Decoding decoding(int maxNewTokens, double temperature, double topP) {
        return new VisionLanguageModel.Decoding(maxNewTokens, temperature, topP, eos, tokenizer.padId());
    }

    /** New tokens of each prompt (without the stop token), all prompts in one prefill and one decoding loop. */
    public int[][] generate(List<Prompt> prompts, VisionLanguageModel.Decoding opt, long[] seeds) {
        Batch b = batch(prompts);
        return vlm.generateFromEmbeddings(b.prompts(), b.embeds(), opt, seeds);
    }

    /** Prompts right-padded into one batch, with their embeddings (batch, n, d): images encoded and put in place. */
    public record Batch(PromptBatch prompts, INDArray embeds) {
    }

    public Batch batch(List<Prompt> prompts) {
        int rows = prompts.size(), n = prompts.stream().mapToInt(p -> p.ids().length).max().orElse(0), d = c.hiddenSize();
        INDArray embeds = Nd4j.zeros(rows, n, d);
        int[] padded = new int[rows * n], lengths = new int[rows];
        long[][][] positions = new long[rows][3][n];
        long[] next = new long[rows];
        for (int b = 0; b < rows; b++) {
            Prompt p = prompts.get(b);
            int len = p.ids().length;
            INDArray rowEmbeds = vlm.embed(p.ids());                               // (len, d)
            int at = 0, image = 0;
            while (at < len) {
                if (p.ids()[at] != imagePad) {
                    at++;
                    continue;
                }
                ImageProcessor.Pixels px = p.images().get(image++);
                long patches = (long) px.gridH() * px.gridW();
                INDArray rows2d = Nd4j.create(px.patches(), new long[]{patches, px.patches().length / patches}, 'c');
                INDArray features = vlm.encodeImage(rows2d, px.gridH(), px.gridW());      // (tokens, d)
                rowEmbeds.get(NDArrayIndex.interval(at, at + px.tokens()), NDArrayIndex.all()).assign(features);
                at += px.tokens();
            }
            embeds.get(NDArrayIndex.point(b), NDArrayIndex.interval(0, len), NDArrayIndex.all()).assign(rowEmbeds);
            for (int i = 0; i < n; i++) padded[b * n + i] = i < len ? p.ids()[i] : tokenizer.padId();
            for (int k = 0; k < 3; k++) System.arraycopy(p.positions()[k], 0, positions[b][k], 0, len);
            lengths[b] = len;
            next[b] = p.nextPos();
        }
        return new Batch(new PromptBatch(Nd4j.createFromArray(padded).reshape(rows, n), lengths, positions, next, false), embeds);
    }

    public LatteTokenizer tokenizer() {
        return tokenizer;
    }

    public ImageProcessor processor() {
        return processor;
    }
}
