package io.latteflow.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.RequestLimits;
import io.latteflow.model.train.GenerationTrainer;
import io.latteflow.model.vlm.PromptBatch;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code latte bench}: LaTtE (K groups) against its Vanilla twin (K = 1, no residual attention), same L, d, heads
 * and seeds. Measures batched sampling with guidance and one generation training step each; runs of the two models
 * alternate so drift in machine speed hits both. Human lines on stderr, one JSON object as the last stdout line.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark LaTtE-Flow against its Vanilla twin (K = 1): sampling seconds per image, layer "
                + "evaluations, and a generation training step.",
                "Prints readable lines on stderr and one JSON object as the last line on stdout."})
public final class BenchCommand implements Callable<Integer> {
    private static final String[] PROMPTS = {"grinning face", "red apple", "blue car", "green frog", "yellow star",
            "smiling cat", "white cloud", "orange fish", "black dog", "purple flower", "brown bear", "pink heart"};

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--preset", paramLabel = "tiny|small|bench", defaultValue = "bench",
            description = "Model size; the Vanilla twin has the same layers with K = 1. Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "8", description = "Images per sampling run. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "20", description = "Euler steps T'. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--cfg", paramLabel = "S", defaultValue = "5", description = "Guidance scale (conditional and unconditional rows in one batch). Default: ${DEFAULT-VALUE}.")
    double cfg;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "3", description = "Timed sampling runs per model (median reported). Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--train-batch", paramLabel = "B", defaultValue = "16", description = "Samples per training step. Default: ${DEFAULT-VALUE}.")
    int trainBatch;

    @Option(names = "--train-repeats", paramLabel = "N", defaultValue = "5", description = "Timed training steps per model (median reported; 0 skips training). Default: ${DEFAULT-VALUE}.")
    int trainRepeats;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0", description = "Seed of weights, noise and data. Default: ${DEFAULT-VALUE}.")
    long seed;

    /** What one model measured. */
    private static final class Measured {
        final String name;
        final LatteFlow flow;
        final List<Double> runs = new ArrayList<>(), prefills = new ArrayList<>(), trainSteps = new ArrayList<>();
        final List<Long> evals = new ArrayList<>();
        GenerationTrainer trainer;
        int nextGroup;

        Measured(String name, LatteFlow flow) {
            this.name = name;
            this.flow = flow;
        }

        LatteConfig config() {
            return flow.config();
        }
    }

    @Override
    public Integer call() {
        atLeast("--batch", batch, 1);
        atLeast("--steps", steps, 1);
        String tooMany = RequestLimits.DEFAULTS.generationRefusal("bench", steps, null);       // issue 19: one step cap everywhere
        if (tooMany != null) throw bad("--steps: " + tooMany);
        atLeast("--repeats", repeats, 1);
        atLeast("--train-batch", trainBatch, 1);
        atLeast("--train-repeats", trainRepeats, 0);
        if (!Double.isFinite(cfg) || cfg < 0) throw bad("--cfg must be a finite number >= 0, got " + cfg);
        LatteConfig latteConfig = ModelOptions.presetConfig(spec, "--preset", preset);
        PrintWriter err = spec.commandLine().getErr();
        err.printf("Benchmark: %s preset, L=%d, d=%d, %d heads; batch %d, %d steps, cfg %s; OMP_NUM_THREADS=%s, %d CPUs.%n",
                preset, latteConfig.numLayers(), latteConfig.hiddenSize(), latteConfig.numHeads(), batch, steps, cfg,
                env("OMP_NUM_THREADS"), Runtime.getRuntime().availableProcessors());
        err.flush();
        try (LatteFlow latteFlow = LatteFlow.create(latteConfig, seed);
             LatteFlow vanillaFlow = LatteFlow.create(latteConfig.vanilla(), seed);
             LatteFlow cachedFlow = LatteFlow.create(latteConfig, seed)) {
            Measured latte = new Measured("LaTtE", latteFlow), vanilla = new Measured("Vanilla", vanillaFlow);
            // the same LaTtE weights with every caption's context cached (as a stream that repeats captions has them)
            Measured cached = new Measured("LaTtE, cached contexts", cachedFlow);
            cachedFlow.contextCache().capacity(PROMPTS.length + 1);
            List<Measured> both = List.of(latte, vanilla);
            for (Measured m : both) warmUp(m, err);
            cachedFlow.generate(requests());                                       // builds the graphs, fills the cache
            for (int r = 0; r < repeats; r++) for (Measured m : List.of(latte, cached, vanilla)) sampleOnce(m);
            for (int r = 0; r < repeats; r++) for (Measured m : both) prefillOnce(m);
            for (int r = 0; r < trainRepeats; r++) for (Measured m : both) trainOnce(m);
            for (Measured m : both) report(m, err);
            ObjectNode json = json(latte, vanilla);
            double cachedPerImage = median(cached.runs) / batch;
            json.put("latte_cached_context_s_per_image", round(cachedPerImage))
                    .put("context_cache_speedup", round(json.get("latte_s_per_image").asDouble() / cachedPerImage));
            json.set("latte_cached_context_runs_s", JSON.valueToTree(cached.runs.stream().map(BenchCommand::round).toList()));
            err.printf("LaTtE with every context cached: %.4f s/image (runs %s s), %.3fx the uncached runs.%n",
                    cachedPerImage, fmt(cached.runs), json.get("context_cache_speedup").asDouble());
            err.printf("Sampling speedup %.2fx (best runs %.2fx), training-step speedup %s (ceiling L/M = %d).%n",
                    json.get("speedup").asDouble(), json.get("speedup_best_runs").asDouble(),
                    trainRepeats == 0 ? "n/a" : String.format("%.2fx (best steps %.2fx)", json.get("train_speedup").asDouble(),
                            json.get("train_speedup_best_steps").asDouble()), latteConfig.groups());
            err.flush();
            spec.commandLine().getOut().println(JSON.writeValueAsString(json));
            spec.commandLine().getOut().flush();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return 0;
    }

    private List<GenerationRequest> requests() {
        List<GenerationRequest> list = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            list.add(GenerationRequest.of(PROMPTS[i % PROMPTS.length]).withSteps(steps).withGuidance(cfg).withSeed(seed + i));
        }
        return list;
    }

    /** Builds every graph a timed run uses: sampling of all groups, prefill, and a training step of every group. */
    private void warmUp(Measured m, PrintWriter err) {
        long start = System.nanoTime();
        m.flow.generate(requests());
        m.flow.prefill(prompts(m.flow));
        if (trainRepeats > 0) {
            m.trainer = new GenerationTrainer(m.flow.model(), 1e-4, seed, m.flow.captionContext(""));
            for (int g = 0; g < m.config().groups(); g++) train(m, g);
        }
        err.printf("%s: warm-up (graph building) %.1f s.%n", m.name, (System.nanoTime() - start) / 1e9);
        err.flush();
    }

    private void sampleOnce(Measured m) {
        List<GenerationRequest> requests = requests();
        long before = m.flow.layerEvaluations();
        long start = System.nanoTime();
        m.flow.generate(requests);
        m.runs.add((System.nanoTime() - start) / 1e9);
        m.evals.add(m.flow.layerEvaluations() - before);
    }

    /** The one prefill a sampling run makes (captions plus their empty twins), timed alone. */
    private void prefillOnce(Measured m) {
        PromptBatch p = prompts(m.flow);
        long start = System.nanoTime();
        m.flow.prefill(p);
        m.prefills.add((System.nanoTime() - start) / 1e9);
    }

    private PromptBatch prompts(LatteFlow flow) {
        List<int[]> contexts = new ArrayList<>();
        for (GenerationRequest r : requests()) contexts.add(flow.captionContext(r.prompt()));
        for (int i = 0; i < batch; i++) contexts.add(flow.captionContext(""));
        return PromptBatch.of(flow.config(), contexts, false, flow.tokenizer().padId());
    }

    /** One training step; LaTtE rotates through its groups so every group is timed alike. */
    private void trainOnce(Measured m) {
        int group = m.nextGroup++ % m.config().groups();
        long start = System.nanoTime();
        train(m, group);
        m.trainSteps.add((System.nanoTime() - start) / 1e9);
    }

    private void train(Measured m, int group) {
        LatteConfig c = m.config();
        Random random = new Random(seed + group);
        float[] data = new float[trainBatch * c.latentTokens() * c.latentDim()];
        for (int i = 0; i < data.length; i++) data[i] = (float) Math.max(-1, Math.min(1, random.nextGaussian() * 0.5));
        INDArray x1 = Nd4j.create(data, new long[]{trainBatch, c.latentTokens(), c.latentDim()}, 'c');
        List<int[]> contexts = new ArrayList<>();
        for (int i = 0; i < trainBatch; i++) contexts.add(m.flow.captionContext(PROMPTS[(i + group) % PROMPTS.length]));
        m.trainer.step(contexts, x1, group);
    }

    private void report(Measured m, PrintWriter err) {
        LatteConfig c = m.config();
        err.printf("%-7s K=%d M=%d: %.4f s/image (runs %s s for %d images), %s layer evals/run (expected %d), "
                        + "prefill %.4f s, train step %s s, %,d active params/step.%n",
                m.name, c.groups(), c.layersPerGroup(), median(m.runs) / batch, fmt(m.runs), batch, m.evals,
                (long) c.layersPerGroup() * steps, median(m.prefills),
                m.trainSteps.isEmpty() ? "n/a" : String.format("%.4f", median(m.trainSteps)), m.flow.activeParamsPerStep());
        err.flush();
    }

    private ObjectNode json(Measured latte, Measured vanilla) {
        LatteConfig c = latte.config();
        ObjectNode j = JSON.createObjectNode();
        double ls = median(latte.runs) / batch, vs = median(vanilla.runs) / batch;
        j.put("latte_s_per_image", round(ls)).put("vanilla_s_per_image", round(vs)).put("speedup", round(vs / ls));
        j.put("latte_layer_evals", latte.evals.get(latte.evals.size() - 1))
                .put("vanilla_layer_evals", vanilla.evals.get(vanilla.evals.size() - 1));
        if (!latte.trainSteps.isEmpty()) {
            double lt = median(latte.trainSteps), vt = median(vanilla.trainSteps);
            j.put("latte_train_step_s", round(lt)).put("vanilla_train_step_s", round(vt)).put("train_speedup", round(vt / lt));
        } else {
            j.putNull("latte_train_step_s").putNull("vanilla_train_step_s").putNull("train_speedup");
        }
        // Noise on a shared machine only adds time: the best runs are the least disturbed estimate.
        double lmin = min(latte.runs), vmin = min(vanilla.runs);
        j.put("speedup_best_runs", round(vmin / lmin));
        if (!latte.trainSteps.isEmpty()) j.put("train_speedup_best_steps", round(min(vanilla.trainSteps) / min(latte.trainSteps)));
        j.put("latte_prefill_s", round(median(latte.prefills))).put("vanilla_prefill_s", round(median(vanilla.prefills)));
        j.set("latte_runs_s", JSON.valueToTree(latte.runs.stream().map(BenchCommand::round).toList()));
        j.set("vanilla_runs_s", JSON.valueToTree(vanilla.runs.stream().map(BenchCommand::round).toList()));
        j.set("latte_train_steps_s", JSON.valueToTree(latte.trainSteps.stream().map(BenchCommand::round).toList()));
        j.set("vanilla_train_steps_s", JSON.valueToTree(vanilla.trainSteps.stream().map(BenchCommand::round).toList()));
        j.put("latte_active_params_per_step", latte.flow.activeParamsPerStep())
                .put("vanilla_active_params_per_step", vanilla.flow.activeParamsPerStep());
        j.put("latte_params", latte.flow.parameterCount())
                .put("vanilla_params", vanilla.flow.parameterCount());
        j.put("preset", preset).put("variant", c.variant().name().toLowerCase()).put("layers", c.numLayers())
                .put("hidden", c.hiddenSize()).put("heads", c.numHeads()).put("kv_heads", c.numKvHeads())
                .put("mlp", c.intermediateSize()).put("latte_groups", c.groups()).put("layers_per_group", c.layersPerGroup())
                .put("residual_attention", c.residualAttention()).put("latent_tokens", c.latentTokens())
                .put("image_size", c.genImageSize());
        j.put("batch", batch).put("steps", steps).put("cfg", cfg).put("repeats", repeats)
                .put("train_batch", trainBatch).put("train_repeats", trainRepeats).put("seed", seed);
        j.put("omp_num_threads", env("OMP_NUM_THREADS")).put("omp_wait_policy", env("OMP_WAIT_POLICY"))
                .put("cpus", Runtime.getRuntime().availableProcessors())
                .put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"))
                .put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        return j;
    }

    static double median(List<Double> xs) {
        double[] s = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double min(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double round(double x) {
        return Math.round(x * 1e4) / 1e4;
    }

    private static String fmt(List<Double> xs) {
        return Arrays.toString(xs.stream().mapToDouble(x -> round(x)).toArray());
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "unset" : v;
    }

    private void atLeast(String option, int value, int min) {
        if (value < min) throw bad(option + " must be >= " + min + ", got " + value);
    }

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
