package io.latteflow.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.Variant;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Qwen2-VL model folder as downloaded from the Hugging Face hub ({@code Qwen/Qwen2-VL-2B-Instruct}): its
 * {@code config.json}, flat as on the hub or nested ({@code text_config}/{@code vision_config}) as transformers 5
 * writes it, read into the {@link LatteConfig} of the same network. Everything the config says that this
 * implementation does not compute is refused here, by name, before a weight is read.
 *
 * <pre>{@code
 * if (Qwen2VlFolder.isHuggingFace(dir)) {
 *     LatteConfig vlm = Qwen2VlFolder.read(dir).config();    // the VLM; generation fields at their defaults
 * }
 * }</pre>
 *
 * @param config        the network as a LatteConfig (generation fields: K = 1 and the paper's defaults)
 * @param tied          whether the LM head is the token embedding ({@code tie_word_embeddings})
 * @param imageTokenId  {@code image_token_id}, the id of {@code <|image_pad|>}
 */
public record Qwen2VlFolder(Path dir, LatteConfig config, boolean tied, int imageTokenId) {
    public static final String MODEL_TYPE = "qwen2_vl";
    public static final String ARCHITECTURE = "Qwen2VLForConditionalGeneration";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** True when {@code dir/config.json} is a Hugging Face config (it names a {@code model_type}) rather than ours. */
    public static boolean isHuggingFace(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) return false;
        try {
            JsonNode root = JSON.readTree(file.toFile());
            return root != null && (root.has("model_type") || root.has("architectures"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads and checks {@code config.json}; the message of any refusal names the file and the key. */
    public static Qwen2VlFolder read(Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException("Unreadable Hugging Face config " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new IOException("Hugging Face config " + file + " is not a JSON object");
        String type = root.path("model_type").asText("");
        List<String> archs = new ArrayList<>();
        root.path("architectures").forEach(a -> archs.add(a.asText()));
        if (!type.equals(MODEL_TYPE) || (!archs.isEmpty() && !archs.contains(ARCHITECTURE))) {
            throw new IOException(file + " describes model_type '" + type + "' " + archs + "; supported is "
                    + MODEL_TYPE + " (" + ARCHITECTURE + ", e.g. Qwen/Qwen2-VL-2B-Instruct)");
        }
        // transformers 5 nests the text model's keys under text_config; hub folders keep them at the top level.
        JsonNode text = root.has("text_config") ? root.get("text_config") : root;
        JsonNode vision = root.path("vision_config");
        Keys t = new Keys(file, text, root), v = new Keys(file, vision, null);
        if (t.bool("use_sliding_window", false)) {
            throw new IOException(file + " sets use_sliding_window: true; Qwen2-VL checkpoints attend to the whole "
                    + "context and only that is supported");
        }
        t.expect("hidden_act", "silu");
        v.expect("hidden_act", "quick_gelu");
        if (v.integer("in_channels", v.integer("in_chans", 3)) != 3) throw new IOException(file + ": vision_config.in_channels must be 3");
        JsonNode rope = text.has("rope_parameters") ? text.get("rope_parameters") : t.node("rope_scaling");
        double theta = rope != null && rope.has("rope_theta") ? rope.get("rope_theta").asDouble() : t.number("rope_theta", 10000);
        String ropeType = rope == null ? "default" : rope.path("rope_type").asText(rope.path("type").asText("default"));
        if (!ropeType.equals("default") && !ropeType.equals("mrope")) {
            throw new IOException(file + ": rope type '" + ropeType + "' is not supported (Qwen2-VL uses default/mrope)");
        }
        int hidden = t.integer("hidden_size", -1), layers = t.integer("num_hidden_layers", -1);
        int visionHidden = v.integer("embed_dim", -1), patch = v.integer("patch_size", v.integer("spatial_patch_size", 14));
        int merge = v.integer("spatial_merge_size", 2), maxPositions = t.integer("max_position_embeddings", 32768);
        if (v.integer("hidden_size", hidden) != hidden) {
            throw new IOException(file + ": vision_config.hidden_size " + v.integer("hidden_size", hidden)
                    + " must equal the text hidden_size " + hidden + " (the patch merger's output width)");
        }
        // The VLM reads images at their own size (Qwen2VLImageProcessor); imageSize is only the native square path's.
        int imageSize = patch * merge * 2;
        LatteConfig cfg;
        try {
            cfg = new LatteConfig(Variant.COUPLE, t.integer("vocab_size", -1), hidden, layers,
                    t.integer("num_attention_heads", -1), t.integer("num_key_value_heads", t.integer("num_attention_heads", -1)),
                    t.integer("intermediate_size", -1), theta, t.number("rms_norm_eps", 1e-6), maxPositions,
                    v.integer("depth", -1), visionHidden, v.integer("num_heads", -1), v.integer("mlp_ratio", 4),
                    patch, v.integer("temporal_patch_size", 2), merge, imageSize,
                    1, true, 100, 256, 32, 3, 256, 40, 5.0, 0.1);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        JsonNode section = rope == null ? null : rope.get("mrope_section");
        if (section != null && !section.isNull()) {
            if (!section.isArray() || section.size() > 16) {
                throw new IOException(file + ": mrope_section must be a short list of integers, got " + section);
            }
            int[] got = new int[section.size()];
            for (int i = 0; i < got.length; i++) {
                if (!section.get(i).canConvertToInt()) throw new IOException(file + ": mrope_section must be a list of integers, got " + section);
                got[i] = section.get(i).asInt();
            }
            if (!java.util.Arrays.equals(got, cfg.mropeSection())) {
                throw new IOException(file + ": mrope_section " + java.util.Arrays.toString(got) + " is not supported; for head dim "
                        + cfg.headDim() + " this implementation splits the rotary half as " + java.util.Arrays.toString(cfg.mropeSection())
                        + " (Qwen2-VL's [16, 24, 24] at head dim 128)");
            }
        }
        boolean tied = root.has("tie_word_embeddings") ? root.get("tie_word_embeddings").asBoolean()
                : text.path("tie_word_embeddings").asBoolean(false);
        int imagePad = root.path("image_token_id").asInt(t.integer("image_token_id", -1));
        return new Qwen2VlFolder(dir, cfg, tied, imagePad);
    }

    /** Keys of one config object, with the file named in every complaint. */
    private record Keys(Path file, JsonNode node, JsonNode fallback) {
        JsonNode node(String key) {
            if (node.has(key)) return node.get(key);
            return fallback != null && fallback.has(key) ? fallback.get(key) : null;
        }

        int integer(String key, int otherwise) throws IOException {
            JsonNode n = node(key);
            if (n == null || n.isNull()) {
                if (otherwise == -1) throw new IOException(file + " lacks '" + key + "'");
                return otherwise;
            }
            if (!n.canConvertToInt()) throw new IOException(file + ": '" + key + "' must be an integer, got " + n);
            return n.asInt();
        }

        double number(String key, double otherwise) throws IOException {
            JsonNode n = node(key);
            if (n == null || n.isNull()) return otherwise;
            if (!n.isNumber()) throw new IOException(file + ": '" + key + "' must be a number, got " + n);
            return n.asDouble();
        }

        boolean bool(String key, boolean otherwise) {
            JsonNode n = node(key);
            return n == null || n.isNull() ? otherwise : n.asBoolean();
        }

        void expect(String key, String value) throws IOException {
            JsonNode n = node(key);
            if (n != null && !n.isNull() && !n.asText().equals(value)) {
                throw new IOException(file + ": " + key + " '" + n.asText() + "' is not supported (Qwen2-VL uses '" + value + "')");
            }
        }
    }
}
