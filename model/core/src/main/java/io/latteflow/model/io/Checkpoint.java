package io.latteflow.model.io;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteWeights;
import io.latteflow.model.nn.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model directory laid out like a Hugging Face one: {@code config.json}, {@code model.safetensors} (or shards
 * with {@code model.safetensors.index.json}) and {@code tokenizer.json}. Loading checks every tensor against the
 * config and accepts both Qwen2-VL layouts ({@code model.layers.*}/{@code visual.*} and the newer
 * {@code model.language_model.*}/{@code model.visual.*}).
 *
 * <pre>{@code
 * Checkpoint.save(dir, config, params, tokenizerJson, DType.F16);
 * ParamStore weights = Checkpoint.loadWeights(dir, LatteConfig.read(dir.resolve("config.json")));
 * }</pre>
 */
public final class Checkpoint {
    public static final String CONFIG = "config.json", WEIGHTS = "model.safetensors", TOKENIZER = "tokenizer.json";

    private Checkpoint() {
    }

    public static void save(Path dir, LatteConfig config, ParamStore params, Path tokenizerJson, DType dtype) throws IOException {
        Files.createDirectories(dir);
        config.write(dir.resolve(CONFIG));
        Map<String, INDArray> all = new LinkedHashMap<>(params.all());
        SafeTensors.write(dir.resolve(WEIGHTS), all, dtype, Map.of("format", "pt", "producer", "latteflow"));
        Path target = dir.resolve(TOKENIZER);
        if (!Files.exists(target) || !Files.isSameFile(tokenizerJson, target)) {
            Files.copy(tokenizerJson, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Reads and validates every weight the config names; a missing, extra or misshapen tensor is an error. */
    public static ParamStore loadWeights(Path dir, LatteConfig config) throws IOException {
        return load(dir, config, true, false);
    }

    /**
     * Reads the vision-language model alone ({@code model.*}, {@code visual.*} and, when the head is not tied to the
     * embedding, {@code lm_head.weight}), as a Hugging Face Qwen2-VL folder holds it.
     */
    public static ParamStore loadVlmWeights(Path dir, LatteConfig config, boolean tied) throws IOException {
        return load(dir, config, false, !tied);
    }

    private static ParamStore load(Path dir, LatteConfig config, boolean generation, boolean needsHead) throws IOException {
        Map<String, LatteWeights.Spec> specs = new LinkedHashMap<>(LatteWeights.specs(config));
        if (!generation) specs.keySet().removeIf(n -> n.startsWith("gen."));
        Map<String, INDArray> found = new HashMap<>();
        for (Path file : SafeTensors.checkpointFiles(dir)) {
            try (SafeTensors st = SafeTensors.open(file)) {
                for (String stored : st.names()) {
                    String name = canonical(stored);
                    if (!specs.containsKey(name) && !name.equals("lm_head.weight")) {
                        throw new IOException("Unexpected tensor '" + stored + "' in " + file + ": not part of a model with this config");
                    }
                    long[] want = name.equals("lm_head.weight") ? specs.get("model.embed_tokens.weight").shape() : specs.get(name).shape();
                    long[] got = st.info(stored).shape();
                    if (!Arrays.equals(want, got)) {
                        throw new IOException("Tensor '" + stored + "' in " + file + " has shape " + Arrays.toString(got)
                                + " but the config expects " + Arrays.toString(want));
                    }
                }
            }
        }
        // Shapes are all checked before the first tensor is read: a bad shard fails in seconds, not after gigabytes.
        for (Path file : SafeTensors.checkpointFiles(dir)) {
            try (SafeTensors st = SafeTensors.open(file)) {
                for (String stored : st.names()) found.put(canonical(stored), requireFinite(file, stored, st.get(stored)));
            }
        }
        ParamStore store = new ParamStore(0);
        for (String name : specs.keySet()) {
            INDArray a = found.get(name);
            if (a == null) throw new IOException("Checkpoint " + dir + " lacks tensor '" + name + "' that the config requires");
            store.put(name, a);
        }
        if (needsHead && !found.containsKey("lm_head.weight")) {
            throw new IOException("Checkpoint " + dir + " lacks 'lm_head.weight', which an untied head (tie_word_embeddings: false) needs");
        }
        if (found.containsKey("lm_head.weight") && (generation || needsHead)) store.put("lm_head.weight", found.get("lm_head.weight"));
        return store;
    }

    /**
     * A weight that is NaN or infinite (a diverged training run, a bad conversion) makes every image black and every
     * answer the same token without a word, so it is refused here, naming the tensor (issue 19). One reduction per
     * tensor: a sum is finite exactly when no element is NaN or infinite, unless finite values overflow it, which
     * the count below tells apart.
     */
    static INDArray requireFinite(Path file, String name, INDArray a) throws IOException {
        if (a.isEmpty() || Double.isFinite(a.sumNumber().doubleValue())) return a;
        long bad = Nd4j.getExecutioner().exec(new MatchCondition(a, Conditions.notFinite())).getLong(0);
        if (bad == 0) return a;
        throw new IOException("Tensor '" + name + "' in " + file + " holds " + bad + " NaN or infinite value" + (bad == 1 ? "" : "s")
                + " of " + a.length() + "; the checkpoint is broken (a diverged training run?) and would draw blank images");
    }

    /** Newer transformers releases nest the Qwen2-VL weights one level deeper. */
    static String canonical(String name) {
        if (name.startsWith("model.language_model.")) return "model." + name.substring("model.language_model.".length());
        if (name.startsWith("model.visual.")) return name.substring("model.".length());
        return name;
    }
}
