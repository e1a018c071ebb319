// Issue 18: the Java side of the engine benchmarks that bench/torch_peer.py compares against PyTorch (prefill, VQA
// decoding, training step). Times our model (medians after a warm-up), writes the inputs it used and the numbers it
// computed as .npy files under --out, and prints one JSON object per measurement on stdout.
// Run with the latte jar on the class path (source-file mode), as bench/run.sh does:
//   java -cp examples/target/latte.jar bench/EngineBench.java prefill --model models/latte-emoji --out /tmp/x
//   java -cp examples/target/latte.jar bench/EngineBench.java decode  --model models/latte-emoji --out /tmp/x --tokens 32
//   java -cp examples/target/latte.jar bench/EngineBench.java train   --model /tmp/small --out /tmp/x --batch 32
// (plus the JVM flags of the `latte` launcher: -Dorg.bytedeco.javacpp.cachedir=..., --add-opens=java.base/java.nio=ALL-UNNAMED).
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.LatteModel;
import io.latteflow.model.Variant;
import io.latteflow.model.flow.ExpertGroup;
import io.latteflow.model.flow.GenerationContext;
import io.latteflow.model.io.DType;
import io.latteflow.model.io.SafeTensors;
import io.latteflow.model.nn.FlatSession;
import io.latteflow.model.nn.Net;
import io.latteflow.model.train.Adam;
import io.latteflow.model.train.GenerationTrainer;
import io.latteflow.model.train.GroupSampling;
import io.latteflow.model.vlm.ImagePatches;
import io.latteflow.model.vlm.PromptBatch;
import io.latteflow.model.vlm.VisionLanguageModel;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

public class EngineBench {
    /** The captions of bench/torch_peer.py's sampling comparison; their contexts plus the empty one are what generate prefills. */
    static final String[] PROMPTS = {"grinning face", "red apple", "couple with heart", "smiling face with sunglasses",
            "thumbs up", "red heart", "cat face", "rocket"};
    static final String[] QUESTIONS = {"what is this?", "what category is this?", "what skin tone is this?",
            "what is left of the red apple?"};
    static final ObjectMapper JSON = new ObjectMapper();

    static Map<String, String> opt = new HashMap<>();
    static Path out;

    public static void main(String[] args) throws Exception {
        if (args.length < 1) throw new IllegalArgumentException("usage: EngineBench prefill|decode|train --model DIR --out DIR [options]");
        for (int i = 1; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) throw new IllegalArgumentException("expected an option, got " + args[i]);
            opt.put(args[i].substring(2), args[i + 1]);
        }
        out = Path.of(req("out"));
        Files.createDirectories(out);
        switch (args[0]) {
            case "prefill" -> prefill();
            case "decode" -> decode();
            case "train" -> train();
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    // ------------------------------------------------------------------------------------------------ prefill
    /**
     * The text prefill generate makes (the 8 captions' contexts plus the empty caption's: 9 distinct rows, every
     * layer's K/V, no final norm) and, with a vision tower, the prefill answer makes for a batch of VQA prompts
     * (ViT, splice, every layer's K/V and the final normed hidden states).
     */
    static void prefill() throws IOException {
        int warmup = intOpt("warmup", 5), repeats = intOpt("repeats", 9), rows = intOpt("vqa-rows", 4);
        try (LatteFlow flow = LatteFlow.load(Path.of(req("model")))) {
            LatteConfig c = flow.config();
            VisionLanguageModel vlm = flow.model().vlm();
            List<int[]> contexts = new ArrayList<>();
            for (String p : PROMPTS) contexts.add(flow.captionContext(p));
            contexts.add(flow.captionContext(""));
            PromptBatch captions = PromptBatch.of(c, contexts, false, flow.tokenizer().padId());
            List<Double> runs = time(warmup, repeats, () -> vlm.prefill(captions, null, c.numLayers(), false));
            VisionLanguageModel.Prefill p = vlm.prefill(captions, null, c.numLayers(), false);
            npy("caption_ids", captions.ids());
            npy("caption_keys", Nd4j.stack(0, p.keys()));
            npy("caption_values", Nd4j.stack(0, p.values()));
            emit(line("prefill_captions", runs).put("rows", captions.batch()).put("tokens", captions.length())
                    .put("ours_timing", "VisionLanguageModel.prefill(batch, null, numLayers, false) of the " + captions.batch()
                            + " distinct caption contexts LatteFlow.generate prefills (8 captions and the empty one): every layer's "
                            + "K/V; median of " + repeats + " after " + warmup + " warm-up"));

            if (!hasVision(flow)) return;
            Vqa q = vqa(flow, rows);
            List<Double> vqaRuns = time(warmup, repeats, () -> vlm.prefill(q.batch, q.patches));
            VisionLanguageModel.Prefill pv = vlm.prefill(q.batch, q.patches);
            npy("vqa_pixels", Nd4j.stack(0, q.images.toArray(new INDArray[0])));
            npy("vqa_ids", q.batch.ids());
            npy("vqa_keys", Nd4j.stack(0, pv.keys()));
            npy("vqa_values", Nd4j.stack(0, pv.values()));
            npy("vqa_hidden", pv.hidden());
            emit(line("prefill_vqa", vqaRuns).put("rows", rows).put("tokens", q.batch.length())
                    .put("ours_timing", "VisionLanguageModel.prefill(batch, patches) of " + rows + " VQA prompts with their images "
                            + "(ViT, splice, every layer's K/V, final normed hidden states), as LatteFlow.answer runs it; median of "
                            + repeats + " after " + warmup + " warm-up"));
        }
    }

    record Vqa(PromptBatch batch, INDArray patches, List<INDArray> images) {
    }

    /** rows VQA prompts ({@link LatteFlow#questionPrompt}) on synthetic images: smooth colour patterns, one per row. */
    static Vqa vqa(LatteFlow flow, int rows) {
        LatteConfig c = flow.config();
        int s = c.imageSize();
        List<int[]> prompts = new ArrayList<>();
        List<INDArray> images = new ArrayList<>();
        for (int b = 0; b < rows; b++) {
            prompts.add(flow.questionPrompt(QUESTIONS[b % QUESTIONS.length]));
            float[] px = new float[3 * s * s];
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < s; y++)
                    for (int x = 0; x < s; x++)
                        px[(ch * s + y) * s + x] = (float) (0.5 + 0.5 * Math.sin(0.37 * x + 0.23 * (ch + 1) * y + 1.3 * b + ch));
            images.add(Nd4j.create(px, new long[]{3, s, s}, 'c'));
        }
        return new Vqa(PromptBatch.of(c, prompts, true, flow.tokenizer().padId()), ImagePatches.patches(c, images), images);
    }

    static boolean hasVision(LatteFlow flow) {
        return flow.parameters().has("visual.patch_embed.proj.weight");
    }

    // ------------------------------------------------------------------------------------------------- decode
    /**
     * Greedy KV-cached decoding of VQA prompts with the decode loop LatteFlow.answer runs (VisionLanguageModel.generate),
     * with no stop token so that every row makes exactly --tokens tokens. s per token = (median time of --tokens tokens
     * minus median time of 1 token, which is the prefill and one pick) / (tokens - 1).
     */
    static void decode() throws IOException {
        int warmup = intOpt("warmup", 30), repeats = intOpt("repeats", 15), rows = intOpt("rows", 1), tokens = intOpt("tokens", 32);
        if (tokens < 2) throw new IllegalArgumentException("--tokens must be >= 2");
        try (LatteFlow flow = LatteFlow.load(Path.of(req("model")))) {
            if (!hasVision(flow)) throw new IllegalArgumentException("decode needs a model with a vision tower");
            VisionLanguageModel vlm = flow.model().vlm();
            Vqa q = vqa(flow, rows);
            long[] seeds = new long[rows];
            int pad = flow.tokenizer().padId();
            VisionLanguageModel.Decoding full = new VisionLanguageModel.Decoding(tokens, 0, 1, Set.of(), pad);
            VisionLanguageModel.Decoding one = new VisionLanguageModel.Decoding(1, 0, 1, Set.of(), pad);
            for (int i = 0; i < warmup; i++) {
                vlm.generate(q.batch, q.patches, full, seeds);
                vlm.generate(q.batch, q.patches, one, seeds);
            }
            List<Double> fullRuns = new ArrayList<>(), oneRuns = new ArrayList<>();
            int[][] ids = null;
            for (int r = 0; r < repeats; r++) {                                    // interleaved, so drift hits both
                long t0 = System.nanoTime();
                ids = vlm.generate(q.batch, q.patches, full, seeds);
                fullRuns.add((System.nanoTime() - t0) / 1e9);
                t0 = System.nanoTime();
                vlm.generate(q.batch, q.patches, one, seeds);
                oneRuns.add((System.nanoTime() - t0) / 1e9);
            }
            int[] flat = new int[rows * tokens];
            for (int b = 0; b < rows; b++) {
                if (ids[b].length != tokens) throw new IllegalStateException("row " + b + " made " + ids[b].length + " tokens");
                System.arraycopy(ids[b], 0, flat, b * tokens, tokens);
            }
            npy("decode_tokens", flat, rows, tokens);
            npy("decode_pixels", Nd4j.stack(0, q.images.toArray(new INDArray[0])));
            npy("decode_ids", q.batch.ids());
            double perToken = (median(fullRuns) - median(oneRuns)) / (tokens - 1);
            ObjectNode j = JSON.createObjectNode().put("what", "decode_per_token").put("ours_s", round(perToken))
                    .put("rows", rows).put("tokens", tokens).put("prompt_tokens", q.batch.length())
                    .put("ours_full_s", round(median(fullRuns))).put("ours_one_token_s", round(median(oneRuns)));
            j.set("ours_full_runs_s", JSON.valueToTree(fullRuns.stream().map(EngineBench::round).toList()));
            j.set("ours_one_token_runs_s", JSON.valueToTree(oneRuns.stream().map(EngineBench::round).toList()));
            j.put("ours_timing", "VisionLanguageModel.generate (greedy, no stop token) of " + rows + " VQA prompt(s): (median of "
                    + repeats + " runs making " + tokens + " tokens - median of " + repeats + " making 1) / " + (tokens - 1)
                    + ", runs interleaved after " + warmup + " warm-up");
            emit(j);
        }
    }

    // -------------------------------------------------------------------------------------------------- train
    /**
     * Generation training (flow matching) as GenerationTrainer runs it: per group trained, the frozen VLM's prefill
     * up to the group's last layer (Couple), forward and backward of the group's graph; then Adam on the gen.* weights.
     * Timed: GenerationTrainer.step itself. --group-sampling per-step (default; TrainingRun.Plan's default and what
     * `latte bench` times): one group on the whole batch, groups in rotation; per-sample (`latte train`'s default):
     * the batch dealt over all K groups, K graph calls per step.
     * Checked: one step on a batch fixed here (contexts, t, x_t, target written as .npy) through the same graph,
     * SameDiff gradients and train.Adam: the loss before (loss0) and after (loss1) the update, and the updated weights.
     */
    static void train() throws IOException {
        int warmup = intOpt("warmup", 2), repeats = intOpt("repeats", 4), batch = intOpt("batch", 32);
        double lr = Double.parseDouble(opt.getOrDefault("lr", "1e-3"));
        long seed = Long.parseLong(opt.getOrDefault("seed", "0"));
        String mode = opt.getOrDefault("group-sampling", "per-step");
        if (!mode.equals("per-step") && !mode.equals("per-sample")) throw new IllegalArgumentException("--group-sampling per-step|per-sample");
        boolean perStep = mode.equals("per-step");
        GroupSampling sampling = perStep ? GroupSampling.PER_STEP : GroupSampling.PER_SAMPLE;
        Path model = Path.of(req("model"));
        Batch data;
        int checkGroup;
        try (LatteFlow flow = LatteFlow.load(model)) {
            LatteConfig c = flow.config();
            if (c.variant() != Variant.COUPLE) throw new IllegalArgumentException("train checks the Couple variant only (got " + c.variant() + ")");
            checkGroup = Integer.parseInt(opt.getOrDefault("check-group", String.valueOf(Math.min(1, c.groups() - 1))));
            data = batch(flow, batch, seed, checkGroup);
            npy("train_ids", data.prompts.ids());
            npy("train_t", data.t, batch);
            npy("train_x1", data.x1);
            npy("train_xt", data.xt);
            npy("train_target", data.target);
            checkStep(flow, data, checkGroup, lr);
        }
        try (LatteFlow flow = LatteFlow.load(model)) {                            // fresh weights for the timed steps
            LatteConfig c = flow.config();
            GenerationTrainer trainer = new GenerationTrainer(flow.model(), lr, seed, flow.captionContext(""), sampling);
            for (int w = 0; w < warmup; w++) {
                if (perStep) for (int g = 0; g < c.groups(); g++) trainer.step(data.contexts, data.x1, g);
                else trainer.step(data.contexts, data.x1);
            }
            List<Double> runs = new ArrayList<>();
            for (int r = 0; r < repeats; r++) {
                int g = r % c.groups();
                long t0 = System.nanoTime();
                if (perStep) trainer.step(data.contexts, data.x1, g);
                else trainer.step(data.contexts, data.x1);
                runs.add((System.nanoTime() - t0) / 1e9);
            }
            ObjectNode j = line("train_step", runs).put("batch", batch).put("groups", c.groups())
                    .put("group_sampling", perStep ? "per-step" : "per-sample")
                    .put("layers_per_group", c.layersPerGroup()).put("residual_attention", c.residualAttention())
                    .put("lr", lr).put("check_group", checkGroup)
                    .put("loss0", data.loss0).put("loss1", data.loss1)
                    .put("ours_timing", (perStep ? "GenerationTrainer.step(contexts, x1, group) (PER_STEP) on " + batch
                            + " samples, groups rotating, median of " + repeats + " after " + warmup + " warm-up step(s) per group"
                            : "GenerationTrainer.step(contexts, x1) (PER_SAMPLE: the batch dealt over all groups) on " + batch
                            + " samples, median of " + repeats + " after " + warmup + " warm-up step(s)"));
            emit(j);
        }
    }

    static final class Batch {
        List<int[]> contexts;
        PromptBatch prompts;
        INDArray x1, xt, target;
        double[] t;
        double loss0, loss1;
    }

    /** Captions (every 8th the empty one, as condition dropout makes), latents in [-1, 1], t in the group's interval. */
    static Batch batch(LatteFlow flow, int batch, long seed, int group) {
        LatteConfig c = flow.config();
        Random random = new Random(seed);
        Batch b = new Batch();
        b.contexts = new ArrayList<>();
        for (int i = 0; i < batch; i++) b.contexts.add(flow.captionContext(i % 8 == 7 ? "" : PROMPTS[i % PROMPTS.length]));
        b.prompts = PromptBatch.of(c, b.contexts, false, 0);                   // GenerationTrainer pads with id 0
        long n = (long) batch * c.latentTokens() * c.latentDim();
        float[] x1 = new float[(int) n], x0 = new float[(int) n];
        for (int i = 0; i < n; i++) x1[i] = (float) Math.max(-1, Math.min(1, random.nextGaussian() * 0.5));
        for (int i = 0; i < n; i++) x0[i] = (float) random.nextGaussian();
        long[] shape = {batch, c.latentTokens(), c.latentDim()};
        b.x1 = Nd4j.create(x1, shape, 'c');
        INDArray noise = Nd4j.create(x0, shape, 'c');
        double[] range = flow.model().partition().trainingInterval(group);
        b.t = new double[batch];
        float[] tt = new float[batch];
        for (int i = 0; i < batch; i++) tt[i] = (float) (b.t[i] = (float) (range[0] + (range[1] - range[0]) * random.nextDouble()));
        INDArray tb = Nd4j.create(tt, new long[]{batch, 1, 1}, 'c');
        b.xt = b.x1.mul(tb).addi(noise.mul(tb.rsub(1.0)));                     // as GenerationTrainer: t x1 + (1 - t) x0
        b.target = b.x1.sub(noise);
        return b;
    }

    /** One step on the fixed batch through GenerationTrainer's graph, gradients and Adam; writes the updated weights. */
    static void checkStep(LatteFlow flow, Batch b, int group, double lr) throws IOException {
        LatteModel m = flow.model();
        LatteConfig c = m.config();
        ExpertGroup g = m.groups().get(group);
        Map<String, INDArray> in = g.inputs(b.xt, b.t, GenerationContext.of(c, b.prompts, m.vlm().prefill(b.prompts, null, g.endLayer(), false)));
        in.put("target", b.target);
        Net net = g.trainingGraph();
        List<String> wrt = new ArrayList<>();
        for (SDVariable v : net.sd.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE && v.name().startsWith("gen.")) wrt.add(v.name());
        }
        if (!net.sd.hasGradientFunction()) {                                     // as train.Gradients: muted while built
            net.sd.setLossVariables("loss");
            PrintStream stdout = System.out;
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                net.sd.createGradFunction();
            } finally {
                System.setOut(stdout);
            }
        }
        FlatSession.install(net.sd);
        OutAndGrad r = net.sd.calculateGradientsAndOutputs(in, List.of("loss"), wrt);
        b.loss0 = r.getOutputs().get("loss").getDouble(0);
        Map<String, INDArray> grads = new HashMap<>();
        r.getGradients().forEach((k, v) -> { if (v != null) grads.put(k, v.dup()); });
        new Adam(m.params(), lr).step(grads);
        b.loss1 = net.output(in, "loss").get("loss").getDouble(0);
        Map<String, INDArray> updated = new LinkedHashMap<>();
        for (String name : wrt.stream().sorted().toList()) updated.put(name, m.params().get(name));
        SafeTensors.write(out.resolve("train_updated.safetensors"), updated, DType.F32, Map.of("format", "pt"));
    }

    // ------------------------------------------------------------------------------------------------ helpers
    static List<Double> time(int warmup, int repeats, Supplier<?> work) {
        for (int i = 0; i < warmup; i++) work.get();
        List<Double> runs = new ArrayList<>();
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            work.get();
            runs.add((System.nanoTime() - t0) / 1e9);
        }
        return runs;
    }

    static ObjectNode line(String what, List<Double> runs) {
        ObjectNode j = JSON.createObjectNode().put("what", what).put("ours_s", round(median(runs)));
        j.set("ours_runs_s", JSON.valueToTree(runs.stream().map(EngineBench::round).toList()));
        return j;
    }

    static void emit(ObjectNode j) throws IOException {
        j.put("omp_num_threads", String.valueOf(System.getenv("OMP_NUM_THREADS")))
                .put("openblas_coretype", String.valueOf(System.getenv("OPENBLAS_CORETYPE")))
                .put("openblas_core", io.latteflow.model.nn.BlasKernels.coreName().orElse("unknown"));
        System.out.println(JSON.writeValueAsString(j));
        System.out.flush();
    }

    static double median(List<Double> xs) {
        double[] s = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double round(double x) {
        return Math.round(x * 1e6) / 1e6;
    }

    static String req(String name) {
        String v = opt.get(name);
        if (v == null) throw new IllegalArgumentException("--" + name + " is required");
        return v;
    }

    static int intOpt(String name, int dflt) {
        return Integer.parseInt(opt.getOrDefault(name, String.valueOf(dflt)));
    }

    // .npy (format 1.0, little-endian, C order)
    static void npy(String name, INDArray a) throws IOException {
        long[] shape = a.shape();
        if (!a.dataType().isFPType()) npy(name, a.dup('c').data().asInt(), shape);
        else npy(name, a.dup('c').data().asFloat(), shape);
    }

    static void npy(String name, float[] data, long... shape) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) buf.putFloat(f);
        writeNpy(name, "<f4", shape, buf.array());
    }

    static void npy(String name, int[] data, long... shape) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int i : data) buf.putInt(i);
        writeNpy(name, "<i4", shape, buf.array());
    }

    static void npy(String name, double[] data, long... shape) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : data) buf.putDouble(d);
        writeNpy(name, "<f8", shape, buf.array());
    }

    static void writeNpy(String name, String descr, long[] shape, byte[] body) throws IOException {
        String dims = String.join(", ", Arrays.stream(shape).mapToObj(Long::toString).toList()) + (shape.length == 1 ? "," : "");
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }");
        while ((10 + header.length() + 1) % 64 != 0) header.append(' ');
        header.append('\n');
        ByteBuffer head = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        head.put((byte) 0x93).put("NUMPY".getBytes()).put((byte) 1).put((byte) 0).putShort((short) header.length());
        try (OutputStream os = Files.newOutputStream(out.resolve(name + ".npy"))) {
            os.write(head.array());
            os.write(header.toString().getBytes());
            os.write(body);
        }
    }
}
