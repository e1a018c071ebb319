package io.latteflow.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.*;

/** The CLI run in-process through picocli, on the tiny preset. */
class LatteCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run latte(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cmd = LatteCli.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    static void png(Path file, int size, Color color) throws Exception {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, size, size);
        g.setColor(color);
        g.fillOval(size / 4, size / 4, size / 2, size / 2);
        g.dispose();
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, "png", file.toFile()));
    }

    /** An untrained tiny model saved in {@code folder} (init seed 5). */
    private static Path savedTiny(Path folder) throws Exception {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 5)) {
            flow.save(folder);
        }
        return folder;
    }

    @Test
    void exportWritesAnF16CopyThatLoadsAndRefusesToOverwrite() throws Exception {
        Path src = savedTiny(dir.resolve("src"));
        Path notes = dir.resolve("train.json");
        Files.writeString(notes, "{}");
        Path out = dir.resolve("f16");
        Run r = latte("export", "--model", src.toString(), "--out", out.toString(), "--with", notes.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.size(out.resolve("model.safetensors")) < Files.size(src.resolve("model.safetensors")) * 0.6, "F16 halves the weights");
        assertTrue(Files.exists(out.resolve("train.json")));
        try (LatteFlow f16 = LatteFlow.load(out)) {
            assertEquals(LatteConfig.tiny(), f16.config());
        }
        Run again = latte("export", "--model", src.toString(), "--out", out.toString());
        assertEquals(2, again.exit());
        assertTrue(again.err().contains("already holds a model"), again.err());
        Run notARun = latte("export", "--model", src.toString(), "--checkpoint", "--out", dir.resolve("ckpt").toString());
        assertEquals(2, notARun.exit());
        assertTrue(notARun.err().contains("No checkpoint in"), notARun.err());
    }

    @Test
    void exportWritesTheSamplingDefaultsItIsGivenAndKeepsTheRestOfTheConfig() throws Exception {
        Path src = savedTiny(dir.resolve("src"));
        Path out = dir.resolve("tuned");
        Run r = latte("export", "--model", src.toString(), "--out", out.toString(), "--cfg", "6", "--steps", "25");
        assertEquals(0, r.exit(), r.err());
        try (LatteFlow tuned = LatteFlow.load(out)) {
            assertEquals(LatteConfig.tiny().toBuilder().defaultCfg(6).defaultSteps(25).build(), tuned.config());
        }
    }

    @Test
    void generateWritesAPngOfTheModelsSize() throws Exception {
        Path out = dir.resolve("sub/tmp.png");
        Run r = latte("generate", "--preset", "tiny", "--steps", "2", "--prompt", "red apple", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        BufferedImage img = ImageIO.read(out.toFile());
        assertNotNull(img, "not a decodable PNG");
        assertEquals(LatteConfig.tiny().genImageSize(), img.getWidth());
        assertEquals(LatteConfig.tiny().genImageSize(), img.getHeight());
        assertTrue(r.err().contains("untrained"), r.err());
    }

    @Test
    void generateCountWritesNumberedFiles() {
        Path out = dir.resolve("many.png");
        Run r = latte("generate", "--preset", "tiny", "--steps", "1", "--count", "2", "--prompt", "blue car", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.isRegularFile(dir.resolve("many-1.png")));
        assertTrue(Files.isRegularFile(dir.resolve("many-2.png")));
        assertFalse(Files.exists(out));
    }

    @Test
    void askResizesAndPrintsAnAnswerLine() throws Exception {
        Path image = dir.resolve("face.png");
        png(image, 20, Color.YELLOW);
        Run r = latte("ask", "--preset", "tiny", "--image", image.toString(), "--question", "what is this?", "--max-tokens", "3");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().endsWith(System.lineSeparator()), "no answer line: '" + r.out() + "'");
        assertEquals(1, r.out().lines().count(), r.out());
        assertTrue(r.err().contains("Resizing"), r.err());
    }

    /** The Hugging Face Qwen2-VL fixture folders of the model module, as downloaded (tied BF16 sharded). */
    static final Path HF_FOLDERS = Path.of("../model/core/src/test/resources/fixtures/qwen2vl-folders");
    static final Path HF_TIED = HF_FOLDERS.resolve("tied-bf16-sharded");

    /** HF's greedy answer of fixture case {@code name}, decoded without the eos it may end on. */
    static String hfAnswer(LatteFlow flow, String name) throws Exception {
        for (JsonNode c : JSON.readTree(HF_FOLDERS.resolve("cases.json").toFile()).get("cases")) {
            if (!c.get("name").asText().equals(name)) continue;
            List<Integer> ids = new ArrayList<>();
            c.get("generated").forEach(t -> ids.add(t.asInt()));
            if (c.get("hit_eos").asBoolean()) ids.remove(ids.size() - 1);
            return flow.tokenizer().decode(ids.stream().mapToInt(Integer::intValue).toArray()).trim();
        }
        throw new IllegalArgumentException(name);
    }

    @Test
    void askOnAHuggingFaceQwen2VlFolderAnswersAsInProcessAndHfWithoutResizing() throws Exception {
        Path wide = HF_FOLDERS.resolve("wide.png");
        String direct, hf;
        try (LatteFlow flow = LatteFlow.load(HF_TIED)) {
            direct = flow.answer(VqaRequest.of(ImageIO.read(wide.toFile()), "What is in this picture?").withMaxNewTokens(12));
            hf = hfAnswer(flow, "one-image");
        }
        assertEquals(hf, direct, "fixture case one-image: the in-process answer is HF's");
        Run r = latte("answer", "--model", HF_TIED.toString(), "--image", wide.toString(),
                "--question", "What is in this picture?", "--max-new-tokens", "12");        // 'ask' is its alias
        assertEquals(0, r.exit(), r.err());
        assertEquals(direct + System.lineSeparator(), r.out());
        assertFalse(r.err().contains("Resizing"), "a Qwen2-VL model reads the 48x24 image at its own size: " + r.err());
    }

    @Test
    void generateOnAHuggingFaceQwen2VlFolderExitsWithOneLineNamingInitCoupleAndWritesNothing() throws Exception {
        Path out = dir.resolve("x.png");
        Run r = latte("generate", "--model", HF_TIED.toString(), "--prompt", "a", "--out", out.toString());
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("init-couple"), r.err());
        assertEquals("", r.out());
        assertFalse(Files.exists(out), "a file was written");
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count(), "nothing at all written");
        }
    }

    /** A valid PNG signature and IHDR chunk (correct CRC) declaring w x h pixels, then an empty IDAT and IEND. */
    static byte[] pngBomb(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12 + 12);
        b.put(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        b.putInt(13).put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(w).putInt(h).put(new byte[]{8, 2, 0, 0, 0});
        CRC32 crc = new CRC32();
        crc.update(b.array(), 12, 17);
        b.putInt((int) crc.getValue());
        b.putInt(0).put("IDAT".getBytes(StandardCharsets.US_ASCII)).putInt(0);
        b.putInt(0).put("IEND".getBytes(StandardCharsets.US_ASCII)).putInt(0);
        return b.array();
    }

    @Test
    void initCoupleMakesAModelThatDrawsAndAnswersAsTheVlmAndRefusesGroupsThatDoNotDivideTheLayers(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("couple"), png = tmp.resolve("drawn.png"), wide = HF_FOLDERS.resolve("wide.png");
        Run bad = latte("init-couple", "--vlm", HF_TIED.toString(), "--out", tmp.resolve("bad").toString(), "--groups", "3");
        assertEquals(2, bad.exit(), bad.err());
        assertEquals(1, bad.err().lines().count(), bad.err());
        assertTrue(bad.err().contains("--groups 3 must divide the VLM's 2 layers"), bad.err());
        Run notHf = latte("init-couple", "--vlm", tmp.toString(), "--out", tmp.resolve("x").toString());
        assertEquals(2, notHf.exit(), notHf.err());

        Run init = latte("init-couple", "--vlm", HF_TIED.toString(), "--out", out.toString(), "--groups", "2",
                "--gen-image-size", "16", "--latent-patch", "4", "--dtype", "F32");
        assertEquals(0, init.exit(), init.err());
        Run gen = latte("generate", "--model", out.toString(), "--prompt", "a red square", "--steps", "2", "--out", png.toString());
        assertEquals(0, gen.exit(), gen.err());
        assertEquals(16, ImageIO.read(png.toFile()).getWidth());
        Run vlm = latte("ask", "--model", HF_TIED.toString(), "--image", wide.toString(), "--question", "What is it?");
        Run couple = latte("ask", "--model", out.toString(), "--image", wide.toString(), "--question", "What is it?");
        assertEquals(0, couple.exit(), couple.err());
        assertEquals(vlm.out(), couple.out(), "the Couple answers as the VLM it was made from");

        // train --init continues from the Couple: generation trains, the VLM stays frozen, so it still answers the same.
        Path images = tmp.resolve("images"), run = tmp.resolve("run");
        png(images.resolve("red_square.png"), 16, Color.RED);
        png(images.resolve("blue_square.png"), 16, Color.BLUE);
        Run train = latte("train", "--init", out.toString(), "--images", images.toString(), "--out", run.toString(), "--steps", "2", "--batch", "2");
        assertEquals(0, train.exit(), train.err());
        assertEquals(2, Files.readAllLines(run.resolve("metrics.jsonl")).size());
        Run trained = latte("ask", "--model", run.toString(), "--image", wide.toString(), "--question", "What is it?");
        assertEquals(0, trained.exit(), trained.err());
        assertEquals(vlm.out(), trained.out(), "training the generation layers left the VLM as it was");
    }

    @Test
    void initCoupleWithACodecDrawsInItsLatentSpaceAndTrainingFromItKeepsTheCodec(@TempDir Path tmp) throws Exception {
        Path codec = tmp.resolve("dc-ae"), out = tmp.resolve("couple"), png = tmp.resolve("drawn.png");
        io.latteflow.model.latent.DcAeCodec.create(tinyCodec(), 16, 2).save(codec, 0.6);
        Run bad = latte("init-couple", "--vlm", HF_TIED.toString(), "--out", tmp.resolve("bad").toString(), "--groups", "2",
                "--codec", codec.toString(), "--gen-image-size", "15");
        assertEquals(2, bad.exit(), bad.err());
        assertTrue(bad.err().contains("must be a multiple of the codec's spatial factor 2"), bad.err());
        assertFalse(Files.exists(tmp.resolve("bad").resolve("model.safetensors")));

        Run init = latte("init-couple", "--vlm", HF_TIED.toString(), "--out", out.toString(), "--groups", "2",
                "--gen-image-size", "16", "--codec", codec.toString(), "--dtype", "F32");
        assertEquals(0, init.exit(), init.err());
        assertTrue(init.err().contains("64 latent tokens per 16x16 image"), init.err());
        assertTrue(Files.isRegularFile(out.resolve("codec").resolve(io.latteflow.model.latent.DcAeCodec.DIFFUSERS_WEIGHTS)));
        Path images = tmp.resolve("images"), run = tmp.resolve("run");
        png(images.resolve("red_square.png"), 16, Color.RED);
        png(images.resolve("blue_square.png"), 16, Color.BLUE);
        Run train = latte("train", "--init", out.toString(), "--images", images.toString(), "--out", run.toString(), "--steps", "2", "--batch", "2");
        assertEquals(0, train.exit(), train.err());
        for (Path m : List.of(out, run)) {
            Run gen = latte("generate", "--model", m.toString(), "--prompt", "a red square", "--steps", "2", "--out", png.toString(), "--force");
            assertEquals(0, gen.exit(), gen.err());
            assertEquals(16, ImageIO.read(png.toFile()).getWidth());
        }
    }

    /** A DC-AE small enough for a test: f2, 4 latent channels. */
    static io.latteflow.model.latent.DcAeConfig tinyCodec() {
        var stages = List.of(
                new io.latteflow.model.latent.DcAeConfig.Stage(8, 1, io.latteflow.model.latent.DcAeConfig.Block.RES, List.of(),
                        io.latteflow.model.latent.DcAeConfig.Norm.RMS, io.latteflow.model.latent.DcAeConfig.Act.SILU),
                new io.latteflow.model.latent.DcAeConfig.Stage(16, 1, io.latteflow.model.latent.DcAeConfig.Block.EVIT, List.of(),
                        io.latteflow.model.latent.DcAeConfig.Norm.RMS, io.latteflow.model.latent.DcAeConfig.Act.SILU));
        return new io.latteflow.model.latent.DcAeConfig(3, 4, 8, stages, stages, true, true, true, true,
                io.latteflow.model.latent.DcAeConfig.Act.RELU, 1.0);
    }

    @Test
    void askOnAHuggingFaceFolderRejectsADecompressionBombBeforeDecoding() throws Exception {
        Path bomb = dir.resolve("bomb.png");
        Files.write(bomb, pngBomb(100_000, 100_000));
        Run r = latte("ask", "--model", HF_TIED.toString(), "--image", bomb.toString(), "--question", "what?");
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("100000x100000") && r.err().contains("rejected before decoding"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void askOnAHuggingFaceFolderRefusesAQuestionBeyondItsContextLimit() {
        // Within the 500-character limit of every front door, but each of these characters is three byte-level
        // tokens: about 1,200 tokens against the folder's 512 positions.
        String question = "語".repeat(400);
        Run r = latte("ask", "--model", HF_TIED.toString(), "--image", HF_FOLDERS.resolve("wide.png").toString(),
                "--question", question);
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("context limit"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void trainWritesALoadableModelAndOneMetricsLinePerStep() throws Exception {
        Path images = dir.resolve("images");
        png(images.resolve("red_apple.png"), 12, Color.RED);
        png(images.resolve("blue-car.png"), 12, Color.BLUE);
        png(images.resolve("green_frog.png"), 8, Color.GREEN);
        Path out = dir.resolve("model");
        Run r = latte("train", "--preset", "tiny", "--images", images.toString(), "--out", out.toString(),
                "--steps", "3", "--batch", "2");
        assertEquals(0, r.exit(), r.err());
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "metrics.jsonl")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing");
        }
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        assertEquals(3, lines.size(), lines.toString());
        for (int i = 0; i < 3; i++) {
            JsonNode m = JSON.readTree(lines.get(i));
            assertEquals(i + 1, m.get("step").asInt());
            assertEquals("generation", m.get("stage").asText());
            assertTrue(m.get("group").asInt() >= 0 && m.get("group").asInt() < LatteConfig.tiny().groups());
            assertTrue(Double.isFinite(m.get("loss").asDouble()));
            assertTrue(m.get("seconds").asDouble() >= 0);
        }
        assertTrue(Files.readString(out.resolve("tokenizer.json")).contains("\"frog\""));
        try (LatteFlow flow = LatteFlow.load(out)) {
            assertEquals(LatteConfig.tiny(), flow.config());
        }
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".partial-")), "staging folder left behind");
        }
    }

    @Test
    void trainWithACodecDrawsInItsLatentSpaceAndTheModelTakesTheCodecWhereverItIsSaved() throws Exception {
        Path images = dir.resolve("images");
        png(images.resolve("red_apple.png"), 16, Color.RED);
        png(images.resolve("blue-car.png"), 16, Color.BLUE);
        Path codec = dir.resolve("my-codec");
        io.latteflow.model.latent.DcAeCodec.create(tinyCodec(), 16, 1).save(codec, 0.7);

        Path out = dir.resolve("model");
        Run r = latte("train", "--preset", "tiny", "--images", images.toString(), "--codec", codec.toString(),
                "--gen-image-size", "16", "--out", out.toString(), "--steps", "2", "--batch", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("codec/config.json")), "the codec is copied into the run");
        Path exported = dir.resolve("exported");
        assertEquals(0, latte("export", "--model", out.toString(), "--out", exported.toString()).exit());
        deleteTree(codec);                                       // the user's folder may go: the models hold copies
        for (Path m : List.of(out, exported)) {
            try (LatteFlow flow = LatteFlow.load(m)) {
                assertEquals("dc-ae:codec", flow.config().codec());
                assertEquals(64, flow.config().latentTokens());              // f2: 8 x 8 cells
                assertEquals(4, flow.config().latentDim());
                var img = flow.generate(io.latteflow.model.GenerationRequest.of("red apple").withSteps(2));
                assertArrayEquals(new long[] {3, 16, 16}, img.pixels().shape());
                assertEquals(0.7, ((io.latteflow.model.latent.DcAeCodec) flow.model().codec()).config().scalingFactor(), 1e-12);
            }
        }
        Run bad = latte("train", "--preset", "tiny", "--images", images.toString(), "--codec", out.resolve("codec").toString(),
                "--gen-image-size", "15", "--out", dir.resolve("bad").toString(), "--steps", "1");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("--gen-image-size 15 must be a multiple of the codec's spatial factor 2"), bad.err());
        assertFalse(Files.exists(dir.resolve("bad")));
    }

    private static void deleteTree(Path p) throws Exception {
        try (var s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }

    @Test
    void trainCodecRefusesBadInputBeforeLoadingAnyImage() throws Exception {
        String[][] cases = {
                {"--architecture", "dc-ae-f9c16-small"}, {"--size", "60"}, {"--steps", "0"}, {"--lr", "NaN"}, {"--data", "fashion"},
                {"--resume"}};
        String[] expected = {"Unknown DC-AE model 'dc-ae-f9c16-small'", "--size 60 must be a multiple of the codec's spatial factor 8",
                "steps, batch and checkpointEvery must be >= 1", "learning rate must be a finite number > 0",
                "--data must be emoji, emoji-google or emoji-twitter", "holds no codec run (no state.json)"};
        for (int i = 0; i < cases.length; i++) {
            List<String> args = new java.util.ArrayList<>(List.of("train-codec", "--out", dir.resolve("codec-" + i).toString()));
            args.addAll(List.of(cases[i]));
            Run r = latte(args.toArray(new String[0]));
            assertEquals(2, r.exit(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().contains(expected[i]), r.err());
            assertFalse(Files.exists(dir.resolve("codec-" + i)), "nothing written for " + String.join(" ", args));
        }
        Files.createDirectories(dir.resolve("full"));
        Files.writeString(dir.resolve("full").resolve("thesis.tex"), "mine");
        Run full = latte("train-codec", "--out", dir.resolve("full").toString());
        assertEquals(2, full.exit());
        assertTrue(full.err().contains("already holds files"), full.err());
        assertEquals("mine", Files.readString(dir.resolve("full").resolve("thesis.tex")));
    }

    @Test
    void trainReadsCaptionsTsvAndHonoursModelSwitches() throws Exception {
        Path images = dir.resolve("images");
        png(images.resolve("a.png"), 16, Color.RED);
        png(images.resolve("b.png"), 16, Color.BLUE);
        Files.writeString(images.resolve("captions.tsv"), "# file\tcaption\na.png\tshiny ruby\nb.png\tdeep ocean\n");
        Path out = dir.resolve("model");
        Run r = latte("train", "--preset", "tiny", "--variant", "blend", "--groups", "4", "--no-residual-attention",
                "--group-sampling", "per-step", "--vocab", "40",
                "--images", images.toString(), "--out", out.toString(), "--steps", "1", "--batch", "2");
        assertEquals(0, r.exit(), r.err());
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(1, metrics.size());
        assertTrue(JSON.readTree(metrics.get(0)).get("group").isInt(), "a per-step step names its group: " + metrics);
        assertTrue(Files.readString(out.resolve("tokenizer.json")).contains("\"ruby\""));
        LatteConfig saved = LatteConfig.read(out.resolve("config.json"));
        assertEquals(4, saved.groups());
        assertFalse(saved.residualAttention());
        assertEquals("BLEND", saved.variant().name());
        assertEquals(40, saved.vocabSize());
    }

    @Test
    void trainRunsTheUnderstandingStageFirst() throws Exception {
        Path images = dir.resolve("images");
        png(images.resolve("red_apple.png"), 16, Color.RED);
        png(images.resolve("blue_car.png"), 16, Color.BLUE);
        Path out = dir.resolve("model");
        Run r = latte("train", "--preset", "tiny", "--images", images.toString(), "--out", out.toString(),
                "--steps", "1", "--understanding-steps", "1", "--batch", "2");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(2, lines.size(), lines.toString());
        assertEquals("understanding", JSON.readTree(lines.get(0)).get("stage").asText());
        assertTrue(JSON.readTree(lines.get(0)).get("group").isNull());
        assertEquals("generation", JSON.readTree(lines.get(1)).get("stage").asText());
        assertTrue(JSON.readTree(lines.get(1)).get("group").isNull(), "by default a step trains every group: " + lines);
    }

    @Test
    void trainRejectsBadInputWithExitCode2AndWritesNothing() throws Exception {
        Path out = dir.resolve("out");
        Run missing = latte("train", "--preset", "tiny", "--images", dir.resolve("nope").toString(), "--out", out.toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("nope"), missing.err());

        Path empty = Files.createDirectories(dir.resolve("empty"));
        Run none = latte("train", "--preset", "tiny", "--images", empty.toString(), "--out", out.toString());
        assertEquals(2, none.exit());
        assertTrue(none.err().contains("no .png"), none.err());

        Path broken = Files.createDirectories(dir.resolve("broken"));
        png(broken.resolve("good.png"), 8, Color.RED);
        Files.write(broken.resolve("bad.png"), new byte[]{1, 2, 3, 4});
        Run bad = latte("train", "--preset", "tiny", "--images", broken.toString(), "--out", out.toString());
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("bad.png"), bad.err());

        Run groups = latte("train", "--preset", "tiny", "--groups", "3", "--images", broken.toString(), "--out", out.toString());
        assertEquals(2, groups.exit());
        assertTrue(groups.err().contains("--groups"), groups.err());
        for (String[] option : new String[][]{{"--group-sampling", "sometimes"}, {"--vocab", "3"}}) {
            Run r = latte("train", "--preset", "tiny", option[0], option[1], "--images", broken.toString(), "--out", out.toString());
            assertEquals(2, r.exit(), String.join(" ", option));
            assertTrue(r.err().contains(option[0]), r.err());
        }
        assertFalse(Files.exists(out), "output written despite bad input");
    }

    @Test
    void badGenerateOptionsAreNamed() {
        Path out = dir.resolve("x.png");
        for (String[] bad : new String[][]{{"--steps", "0"}, {"--cfg", "-1"}, {"--cfg", "NaN"}, {"--count", "0"}}) {
            Run r = latte("generate", "--preset", "tiny", "--prompt", "a", "--out", out.toString(), bad[0], bad[1]);
            assertNotEquals(0, r.exit(), String.join(" ", bad));
            assertTrue(r.err().contains(bad[0]), r.err());
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void generateRefusesWhatEveryFrontDoorRefusesWithTheCoresWords(@TempDir Path tmp) {
        Path out = tmp.resolve("x.png");
        Run steps = latte("generate", "--preset", "tiny", "--prompt", "a", "--steps", "5000", "--out", out.toString());
        assertEquals(2, steps.exit(), steps.err());
        assertTrue(steps.err().contains("steps 5000 is outside [1, 1000]"), steps.err());
        Run guidance = latte("generate", "--preset", "tiny", "--prompt", "a", "--cfg", "1e30", "--out", out.toString());
        assertEquals(2, guidance.exit(), guidance.err());
        assertTrue(guidance.err().contains("guidance 1.0E30 is outside [0, 50.0]"), guidance.err());
        Run empty = latte("generate", "--preset", "tiny", "--prompt", " ", "--out", out.toString());
        assertEquals(2, empty.exit(), empty.err());
        assertTrue(empty.err().contains("prompt is empty"), empty.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void missingFilesAndModelsAreNamed() {
        Run ask = latte("ask", "--preset", "tiny", "--image", dir.resolve("missing.png").toString(), "--question", "what?");
        assertNotEquals(0, ask.exit());
        assertTrue(ask.err().contains("missing.png"), ask.err());

        Run gen = latte("generate", "--model", "/nonexistent", "--prompt", "a", "--out", dir.resolve("y.png").toString());
        assertNotEquals(0, gen.exit());
        assertTrue(gen.err().contains("/nonexistent"), gen.err());
        assertTrue(gen.err().contains("latte train"), "should say how to make a model: " + gen.err());
    }

    @Test
    void everySubcommandDocumentsItsOptions() {
        for (String sub : List.of("generate", "ask", "train", "bench")) {
            Run r = latte(sub, "--help");
            assertEquals(0, r.exit());
            assertTrue(r.out().contains("Default:"), sub + " help shows no defaults:\n" + r.out());
        }
        Run none = latte();
        assertNotEquals(0, none.exit());
    }

    @Test
    void benchPrintsJsonWithLayerEvaluationsOfOneGroupPerStep() throws Exception {
        Run r = latte("bench", "--preset", "tiny", "--batch", "1", "--steps", "2", "--repeats", "1",
                "--train-batch", "2", "--train-repeats", "1");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        JsonNode j = JSON.readTree(lines.get(lines.size() - 1));
        LatteConfig tiny = LatteConfig.tiny();
        assertEquals(tiny.layersPerGroup() * 2, j.get("latte_layer_evals").asInt());
        assertEquals(tiny.numLayers() * 2, j.get("vanilla_layer_evals").asInt());
        for (String k : List.of("latte_s_per_image", "vanilla_s_per_image", "speedup", "latte_train_step_s",
                "vanilla_train_step_s", "train_speedup")) {
            assertTrue(j.get(k).asDouble() > 0, k + " in " + j);
        }
    }
}
