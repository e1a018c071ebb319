package io.latteflow.model;

import io.latteflow.model.flow.EulerSampler;
import io.latteflow.model.flow.ContextCache;
import io.latteflow.model.hf.ChatTemplate;
import io.latteflow.model.hf.CoupleInit;
import io.latteflow.model.hf.ImageProcessor;
import io.latteflow.model.hf.Qwen2VlChat;
import io.latteflow.model.hf.Qwen2VlFolder;
import io.latteflow.model.io.Checkpoint;
import io.latteflow.model.io.DType;
import io.latteflow.model.io.LatteTokenizer;
import io.latteflow.model.nn.BlasKernels;
import io.latteflow.model.nn.ParamStore;
import io.latteflow.model.io.TokenizerBuilder;
import io.latteflow.model.latent.LatentCodec;
import io.latteflow.model.vlm.ImagePatches;
import io.latteflow.model.vlm.PromptBatch;
import io.latteflow.model.vlm.VisionLanguageModel;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * LaTtE-Flow: answers questions about images and draws images from captions, running one expert group of
 * layers per sampling step.
 *
 * <pre>{@code
 * try (LatteFlow flow = LatteFlow.load(Path.of("models/latte-emoji"))) {
 *     GeneratedImage img = flow.generate(GenerationRequest.of("grinning face").withSeed(1));
 *     Files.write(Path.of("face.png"), img.png());
 *     String answer = flow.answer(VqaRequest.of(img.image(), "what is this?"));
 * }
 * }</pre>
 *
 * Thread safety: {@code generate} and {@code answer} may be called from many threads at once (graphs are built
 * once and only read). Training mutates the weights in place and must not run concurrently with them.
 */
public final class LatteFlow implements AutoCloseable {
    static {
        BlasKernels.choose();                       // before the first model array loads OpenBLAS (issue 18)
    }

    private final LatteModel model;
    private final LatteTokenizer tokenizer;
    private final Path tokenizerJson;
    private final ContextCache contextCache = new ContextCache(0);
    private volatile RequestLimits limits = RequestLimits.DEFAULTS;
    private final ReentrantReadWriteLock inUse = new ReentrantReadWriteLock();
    private boolean closed;                                     // guarded by inUse
    /** Qwen2-VL chat answering, when the folder brings a chat template and image processor; null otherwise. */
    private final Qwen2VlChat chat;
    /** The Hugging Face folder of a model that only understands (no generation layers); null otherwise. */
    private final Path vlmOnly;

    private LatteFlow(LatteModel model, LatteTokenizer tokenizer, Path tokenizerJson) {
        this(model, tokenizer, tokenizerJson, null, null);
    }

    private LatteFlow(LatteModel model, LatteTokenizer tokenizer, Path tokenizerJson, Qwen2VlChat chat, Path vlmOnly) {
        BlasKernels.logOnce();
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("Tokenizer has " + tokenizer.vocabSize() + " tokens but the model's vocabSize is "
                    + model.config().vocabSize());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.tokenizerJson = tokenizerJson;
        this.chat = chat;
        this.vlmOnly = vlmOnly;
    }

    /** A freshly initialised model with the given tokenizer. */
    public static LatteFlow create(LatteConfig config, long seed, Path tokenizerJson) throws IOException {
        return new LatteFlow(LatteModel.create(config, seed), LatteTokenizer.load(tokenizerJson), tokenizerJson);
    }

    /**
     * A freshly initialised model for the directory it will be trained in: a relative DC-AE folder in its config
     * ({@code dc-ae:codec}) is read from {@code modelDir} rather than the working directory.
     */
    public static LatteFlow create(LatteConfig config, long seed, Path tokenizerJson, Path modelDir) throws IOException {
        return new LatteFlow(LatteModel.create(config, seed, modelDir), LatteTokenizer.load(tokenizerJson), tokenizerJson);
    }

    /** A freshly initialised model with a small word-level tokenizer built from a built-in caption vocabulary. */
    public static LatteFlow create(LatteConfig config, long seed) {
        try {
            Path json = Files.createTempFile("latte-tokenizer", ".json");
            json.toFile().deleteOnExit();
            TokenizerBuilder.writeWordLevel(defaultCorpus(), config.vocabSize() - 7, json);
            return create(config, seed, json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Loads a checkpoint directory ({@code config.json}, {@code model.safetensors}, {@code tokenizer.json}), or a
     * Hugging Face Qwen2-VL folder as downloaded (e.g. {@code Qwen/Qwen2-VL-2B-Instruct}), which answers questions
     * and cannot draw until {@code latte init-couple} makes a LaTtE-Flow model of it. A checkpoint that carries a
     * {@code preprocessor_config.json} and a chat template (one made by init-couple) answers as Qwen2-VL does.
     * Every file is checked before the weights are read.
     */
    public static LatteFlow load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException("Model directory " + dir + " does not exist");
        Path tok = dir.resolve(Checkpoint.TOKENIZER);
        if (Qwen2VlFolder.isHuggingFace(dir)) {
            Qwen2VlFolder folder = Qwen2VlFolder.read(dir);
            LatteTokenizer tokenizer = LatteTokenizer.load(tok);
            try {
                ChatTemplate.read(dir);
                ImageProcessor.read(dir, folder.config());
                if (folder.imageTokenId() >= 0 && folder.imageTokenId() != tokenizer.imagePad()) {
                    throw new IOException(dir.resolve("config.json") + ": image_token_id " + folder.imageTokenId()
                            + " is not the tokenizer's <|image_pad|> (" + tokenizer.imagePad() + ")");
                }
                LatteModel model = new LatteModel(folder.config(), Checkpoint.loadVlmWeights(dir, folder.config(), folder.tied()));
                Qwen2VlChat chat = Qwen2VlChat.open(dir, folder.config(), model.vlm(), tokenizer);
                return new LatteFlow(model, tokenizer, tok, chat, dir);
            } catch (IOException | RuntimeException e) {
                tokenizer.close();
                throw e;
            }
        }
        LatteConfig config = LatteConfig.read(dir.resolve(Checkpoint.CONFIG));
        LatteTokenizer tokenizer = LatteTokenizer.load(tok);
        try {
            LatentCodec codec = LatteModel.codecFor(config, dir);      // a named DC-AE folder is checked before the weights
            LatteModel model = new LatteModel(config, Checkpoint.loadWeights(dir, config), codec);
            Qwen2VlChat chat = Qwen2VlChat.available(dir) ? Qwen2VlChat.open(dir, config, model.vlm(), tokenizer) : null;
            return new LatteFlow(model, tokenizer, tok, chat, null);
        } catch (IOException | RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /** False for a Hugging Face vision-language model loaded as it was downloaded: it answers, it does not draw. */
    public boolean canGenerate() {
        return vlmOnly == null;
    }

    /** Why {@link #generate} refuses on a model that only understands, and how to make one that draws. */
    public String generationRefusal() {
        return vlmOnly == null ? null : "The model in " + vlmOnly + " is a vision-language model only (Qwen2-VL): it answers "
                + "questions but has no generation layers. Make a LaTtE-Flow model from it with 'latte init-couple --vlm "
                + vlmOnly + " --out DIR' and train it.";
    }

    /**
     * The image as this model's VLM reads it: resized to {@link LatteConfig#imageSize()} squares for models trained
     * here; unchanged for Qwen2-VL chat models, whose processor resizes each image to its own token grid.
     */
    public BufferedImage readableImage(BufferedImage image) {
        return chat != null ? image : Images.resize(image, config().imageSize());
    }

    /** Saves weights as F32. */
    public void save(Path dir) throws IOException {
        save(dir, DType.F32);
    }

    /** Saves weights as F32, F16 or BF16. */
    public void save(Path dir, DType dtype) throws IOException {
        if (vlmOnly != null) {
            throw new IOException("The model in " + vlmOnly + " is a Hugging Face folder: copy the folder, or make a "
                    + "LaTtE-Flow model from it with 'latte init-couple --vlm " + vlmOnly + " --out DIR'");
        }
        Checkpoint.save(dir, model.config(), model.params(), tokenizerJson, dtype);
        // a relative DC-AE folder goes along, so the saved model loads anywhere (an absolute one is left where it is)
        String codecFolder = model.config().dcAeFolder();
        if (codecFolder != null && !Path.of(codecFolder).isAbsolute() && model.codec() instanceof io.latteflow.model.latent.DcAeCodec d) {
            d.copyFolderTo(dir.resolve(codecFolder));
        }
        if (chat != null) {                          // a model made from Qwen2-VL keeps answering as Qwen2-VL
            for (String name : CoupleInit.CHAT_FILES) {
                Path from = tokenizerJson.getParent().resolve(name), to = dir.resolve(name);
                if (Files.isRegularFile(from) && !(Files.exists(to) && Files.isSameFile(from, to))) {
                    Files.copy(from, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /**
     * The prefilled contexts of recent captions, shared by every caller of this model; off (capacity 0) until
     * given a capacity. Clear it after training changes the VLM's weights.
     */
    public ContextCache contextCache() {
        return contextCache;
    }

    /**
     * The bounds on the work of one request (steps, guidance, answer tokens) that {@link #generate} and
     * {@link #answer} apply, in the same words as every front door: {@link RequestLimits#DEFAULTS} unless set.
     */
    public RequestLimits limits() {
        return limits;
    }

    /** Replaces {@link #limits()}, e.g. {@code flow.setLimits(new RequestLimits(5000, 50, 500, 4096L * 4096, 256))}. */
    public void setLimits(RequestLimits limits) {
        this.limits = java.util.Objects.requireNonNull(limits, "limits");
    }

    public GeneratedImage generate(GenerationRequest request) {
        return generate(List.of(request)).get(0);
    }

    /**
     * Generates a batch: one prefill for all captions (and their empty-caption twins for guidance), then T' steps
     * each running one expert group on conditional and unconditional rows together. Requests with different
     * step counts are sampled as separate batches; results keep the order of the requests.
     */
    public List<GeneratedImage> generate(List<GenerationRequest> requests) {
        return generate(requests, null);
    }

    /**
     * As {@link #generate(List)}, telling {@code listener} (may be null) about every step and, every
     * {@link GenerationListener#previewEvery()} steps, the decoded estimate of the finished images. Listening does
     * not change the images.
     */
    public List<GeneratedImage> generate(List<GenerationRequest> requests, GenerationListener listener) {
        return whileOpen(() -> generateOpen(requests, listener));
    }

    private List<GeneratedImage> generateOpen(List<GenerationRequest> requests, GenerationListener listener) {
        if (vlmOnly != null) throw new IllegalArgumentException(generationRefusal());
        SamplingBatch sampling = new SamplingBatch(this);
        Map<Integer, List<Integer>> bySteps = new LinkedHashMap<>();
        List<SamplingBatch.Image> images = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            images.add(sampling.image(requests.get(i)));
            bySteps.computeIfAbsent(images.get(i).steps(), s -> new ArrayList<>()).add(i);
        }
        GeneratedImage[] out = new GeneratedImage[requests.size()];
        bySteps.forEach((steps, rows) -> {
            List<SamplingBatch.Image> batch = rows.stream().map(images::get).toList();
            EulerSampler.StepObserver observer = listener == null ? null : progressObserver(listener, steps, rows);
            INDArray x1 = sampling.sample(batch, sampling.noise(batch), observer);
            INDArray pixels = sampling.decode(x1);                                       // (batch, 3, size, size)
            for (int b = 0; b < batch.size(); b++) out[rows.get(b)] = SamplingBatch.result(batch.get(b), x1, pixels, b);
        });
        return Arrays.asList(out);
    }

    private EulerSampler.StepObserver progressObserver(GenerationListener listener, int steps, List<Integer> rows) {
        int every = listener.previewEvery();
        return (done, t, x, v) -> {
            List<BufferedImage> previews = new ArrayList<>();
            if (every > 0 && (done % every == 0 || done == steps)) {
                // x has already moved to t + dt, so the straight-line extrapolation to t = 1 is x + (1 - t - dt) v.
                INDArray estimate = x.add(v.mul(1.0 - t - 1.0 / steps));
                INDArray pixels = model.codec().decode(estimate);
                for (int b = 0; b < rows.size(); b++) {
                    previews.add(Images.toBufferedImage(pixels.get(NDArrayIndex.point(b), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).dup()));
                }
            }
            listener.onStep(new GenerationProgress(done, steps, rows, previews));
        };
    }

    public String answer(VqaRequest request) {
        return answer(List.of(request)).get(0);
    }

    /** Answers a batch with one prefill and KV-cached decoding; requests with different decoding settings run apart. */
    public List<String> answer(List<VqaRequest> requests) {
        return whileOpen(() -> answerOpen(requests));
    }

    private List<String> answerOpen(List<VqaRequest> requests) {
        for (VqaRequest r : requests) {
            String why = limits.workRefusal(r);
            if (why != null) throw new IllegalArgumentException(why);
        }
        if (chat != null) return chatAnswers(requests);
        LatteConfig c = model.config();
        Map<VisionLanguageModel.Decoding, List<Integer>> byOptions = new LinkedHashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            VqaRequest r = requests.get(i);
            ImagePatches.checkImage(c, r.image());
            byOptions.computeIfAbsent(new VisionLanguageModel.Decoding(r.maxNewTokens(), r.temperature(), r.topP(),
                    tokenizer.endOfText(), tokenizer.padId()), k -> new ArrayList<>()).add(i);
        }
        String[] out = new String[requests.size()];
        byOptions.forEach((opt, rows) -> {
            List<int[]> prompts = new ArrayList<>();
            List<INDArray> images = new ArrayList<>();
            long[] seeds = new long[rows.size()];
            for (int b = 0; b < rows.size(); b++) {
                VqaRequest r = requests.get(rows.get(b));
                prompts.add(questionPrompt(r.question()));
                images.add(r.image());
                seeds[b] = SeededNoise.mix(r.seed());     // all 64 bits reach the 48-bit sampler (issue 19)
            }
            PromptBatch batch = PromptBatch.of(c, prompts, true, tokenizer.padId());
            int[][] ids = model.vlm().generate(batch, ImagePatches.patches(c, images), opt, seeds);
            for (int b = 0; b < rows.size(); b++) out[rows.get(b)] = tokenizer.decode(ids[b]).trim();
        });
        return Arrays.asList(out);
    }

    /** Qwen2-VL answers: each question asked through the checkpoint's chat template, images at their own size. */
    private List<String> chatAnswers(List<VqaRequest> requests) {
        List<Qwen2VlChat.Prompt> prompts = new ArrayList<>();
        for (VqaRequest r : requests) {              // every prompt is checked before any model work
            if (r.image().rank() != 3 || r.image().size(0) != 3) {
                throw new IllegalArgumentException("Image must be (3, height, width) RGB with values in [0, 1], got shape "
                        + Arrays.toString(r.image().shape()));
            }
            prompts.add(chat.prompt(Qwen2VlChat.question(r.question()), List.of(Images.toBufferedImage(r.image()))));
        }
        Map<VisionLanguageModel.Decoding, List<Integer>> byOptions = new LinkedHashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            VqaRequest r = requests.get(i);
            byOptions.computeIfAbsent(chat.decoding(r.maxNewTokens(), r.temperature(), r.topP()), k -> new ArrayList<>()).add(i);
        }
        String[] out = new String[requests.size()];
        byOptions.forEach((opt, rows) -> {
            List<Qwen2VlChat.Prompt> group = new ArrayList<>();
            long[] seeds = new long[rows.size()];
            for (int b = 0; b < rows.size(); b++) {
                group.add(prompts.get(rows.get(b)));
                seeds[b] = SeededNoise.mix(requests.get(rows.get(b)).seed());
            }
            int[][] ids = chat.generate(group, opt, seeds);
            for (int b = 0; b < rows.size(); b++) out[rows.get(b)] = tokenizer.decode(ids[b]).trim();
        });
        return Arrays.asList(out);
    }

    /** The Qwen2-VL chat of this model, or null when it answers with the square-image prompts it was trained on. */
    public Qwen2VlChat chat() {
        return chat;
    }

    /**
     * Why this model cannot draw {@code prompt} (its caption context is longer than the model's context), or null:
     * the check {@link #generate} makes, for front doors to make before any sampling, with one wording.
     */
    public String captionRefusal(String prompt) {
        int tokens = captionContext(prompt).length, max = config().maxContextTokens();
        return tokens > max ? "prompt is " + tokens + " tokens long, more than the model's " + max : null;
    }

    /** {@code <|im_start|> caption <|vision_start|>}: the context that generation conditions on. */
    public int[] captionContext(String caption) {
        return concat(new int[]{tokenizer.imStart()}, tokenizer.encode(caption), new int[]{tokenizer.visionStart()});
    }

    /** {@code <|im_start|><|vision_start|> image pads <|vision_end|> question <|im_end|>}. */
    public int[] questionPrompt(String question) {
        int[] pads = new int[model.config().imageTokens()];
        Arrays.fill(pads, tokenizer.imagePad());
        return concat(new int[]{tokenizer.imStart(), tokenizer.visionStart()}, pads, new int[]{tokenizer.visionEnd()},
                tokenizer.encode(question), new int[]{tokenizer.imEnd()});
    }

    /** An answer's ids followed by the stop token, as understanding training expects. */
    public int[] answerTokens(String answer) {
        return concat(tokenizer.encode(answer), new int[]{tokenizer.endOfText()});
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static List<String> defaultCorpus() throws IOException {
        try (InputStream in = LatteFlow.class.getResourceAsStream("default-corpus.txt")) {
            if (in == null) throw new IOException("default-corpus.txt missing from the latteflow-model jar");
            return List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"));
        }
    }

    /** Every parameter of the model. */
    public long parameterCount() { return model.params().count(n -> true); }
    /** The parameters one sampling step reads: one group's layers, its head and the timestep embedder. */
    public long activeParamsPerStep() { return model.activeParamsPerStep(); }
    /** The weights, by Hugging Face name; trainers update them in place. */
    public ParamStore parameters() { return model.params(); }
    /** Transformer-layer evaluations the generation groups have run so far (counted from the ops that ran). */
    public long layerEvaluations() { return model.samplingCounter().layerEvaluations(); }
    /** The VLM prefill of a prompt batch: every layer's keys and values and the final hidden states. */
    public VisionLanguageModel.Prefill prefill(PromptBatch prompts) { return model.vlm().prefill(prompts, null); }
    /** Pixels (batch, 3, size, size) in [0, 1] as the latents the generation path draws. */
    public INDArray encodeLatents(INDArray pixels) { return model.codec().encode(pixels); }
    public LatteModel model() { return model; }
    public LatteConfig config() { return model.config(); }
    public LatteTokenizer tokenizer() { return tokenizer; }

    /** Runs a call unless the model is closed; {@link #close} waits for the calls in flight. */
    private <T> T whileOpen(Supplier<T> call) {
        inUse.readLock().lock();
        try {
            if (closed) throw new IllegalStateException("This model is closed; load it again (LatteFlow.load)");
            return call.get();
        } finally {
            inUse.readLock().unlock();
        }
    }

    /**
     * Frees the model's native memory now: weights, the plans of every graph, the codec's, the tokenizer. Waits for
     * {@link #generate} and {@link #answer} calls in flight; later calls throw {@link IllegalStateException}. Arrays
     * taken from {@link #parameters()} or {@link #model()} must not be used afterwards. Idempotent.
     *
     * <p>Why now rather than at garbage collection: a process that loads models again and again (a Flink
     * TaskManager living through job restarts) otherwise holds every old model's native memory until a collection
     * of the old generation, which a roomy heap may not need for a long time (issue 19).
     */
    @Override
    public void close() {
        inUse.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            tokenizer.close();
            model.close();
        } finally {
            inUse.writeLock().unlock();
        }
    }
}
