package io.latteflow.model.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The evaluation classifier's shape and, once trained, how it was trained and what it scored; stored as
 * {@code config.json} beside {@code model.safetensors}.
 *
 * <p>The network: input side x side, gray ({@code channels} 1) or RGB over white (3); conv 3x3 ({@code conv1}
 * channels), ReLU, 2x2 max-pool; conv 3x3 ({@code conv2}), ReLU, 2x2 max-pool; if {@code conv3} > 0 a third such
 * block; dense {@code hidden} + ReLU (the features); dense to the classes.
 *
 * <pre>{@code
 * ClassifierConfig c = ClassifierConfig.small(FashionMnist.CLASS_NAMES);   // 16, 32 channels, 128 features
 * c.report().map(Report::testAccuracy);                                   // empty until trained
 * }</pre>
 */
public record ClassifierConfig(int side, int channels, int conv1, int conv2, int conv3, int hidden, List<String> classNames, Optional<Report> report) {
    /** The value of {@code "format"} in config.json, so a model directory of another kind is refused by name. */
    public static final String FORMAT = "latteflow-classifier";
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);

    /**
     * How the weights were trained and the test accuracy measured right after.
     *
     * <pre>{@code
     * new Report("fashion-mnist", 60000, 3, 128, 1e-3, 42, 412.5, 0.9071)
     * }</pre>
     */
    public record Report(String dataset, int trainImages, int epochs, int batch, double learningRate, long seed,
                         double trainSeconds, double testAccuracy) {
    }

    public ClassifierConfig {
        int pools = conv3 > 0 ? 8 : 4;
        if (side < pools || side % pools != 0) throw new IllegalArgumentException("side must be a positive multiple of " + pools + " (2x2 pools), not " + side);
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("channels must be 1 (gray) or 3 (RGB), not " + channels);
        if (conv1 < 1 || conv2 < 1 || conv3 < 0 || hidden < 1) throw new IllegalArgumentException("layer widths must be positive");
        if (classNames.size() < 2) throw new IllegalArgumentException("a classifier needs at least 2 classes");
        classNames = List.copyOf(classNames);
    }

    /** The shipped shape: 28x28 input, 16 and 32 channels, 128 features (about 0.2 M parameters). */
    public static ClassifierConfig small(List<String> classNames) {
        return new ClassifierConfig(28, 1, 16, 32, 0, 128, classNames, Optional.empty());
    }

    /** The emoji judge's shape: 64x64 RGB, 32, 64 and 128 channels, 256 features (about 2.2 M parameters). */
    public static ClassifierConfig emoji(List<String> classNames) {
        return new ClassifierConfig(64, 3, 32, 64, 128, 256, classNames, Optional.empty());
    }

    public int classes() {
        return classNames.size();
    }

    /** The flattened size after the last pool. */
    int flat() {
        return conv3 > 0 ? conv3 * (side / 8) * (side / 8) : conv2 * (side / 4) * (side / 4);
    }

    ClassifierConfig withReport(Report r) {
        return new ClassifierConfig(side, channels, conv1, conv2, conv3, hidden, classNames, Optional.of(r));
    }

    void write(Path file) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT).put("version", 1).put("side", side).put("channels", channels).put("conv1", conv1).put("conv2", conv2)
                .put("conv3", conv3).put("hidden", hidden);
        o.put("conv_weight_layout", "kh,kw,in,out");
        classNames.forEach(o.putArray("class_names")::add);
        report.ifPresent(r -> o.set("report", JSON.valueToTree(r)));
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
    }

    static ClassifierConfig read(Path file) throws IOException {
        JsonNode o = JSON.readTree(file.toFile());
        if (o == null || !FORMAT.equals(o.path("format").asText())) {
            throw new IOException(file + " is not a classifier config (\"format\" is not \"" + FORMAT + "\")");
        }
        List<String> names = new ArrayList<>();
        o.path("class_names").forEach(n -> names.add(n.asText()));
        Optional<Report> report = o.has("report") ? Optional.of(JSON.treeToValue(o.get("report"), Report.class)) : Optional.empty();
        try {
            return new ClassifierConfig(o.path("side").asInt(), o.path("channels").asInt(1), o.path("conv1").asInt(), o.path("conv2").asInt(),
                    o.path("conv3").asInt(0), o.path("hidden").asInt(), names, report);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
