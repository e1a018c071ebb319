package io.latteflow.notebook;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import org.dflib.jjava.jupyter.Extension;
import org.dflib.jjava.jupyter.ExtensionLoader;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.dflib.jjava.jupyter.kernel.magic.registry.Magics;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The extension against jupyter-jvm-basekernel's own classes, without a Jupyter client. */
class BaseKernelMachineryTest {

    @Test
    void serviceFileMakesBasekernelsExtensionLoaderFindTheExtension() {
        List<String> classPath = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        List<Extension> found = new ExtensionLoader().loadExtensions(classPath);
        assertTrue(found.stream().anyMatch(e -> e instanceof LatteExtension), found.toString());
    }

    @Test
    void generatedImageRendersAsPngOfTheModelSizeWithACaptionAsText() throws Exception {
        Renderer renderer = new Renderer();
        LatteRenderers.registerAll(renderer);
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 1)) {
            GeneratedImage img = flow.generate(GenerationRequest.of("red apple").withSteps(2).withSeed(4));
            DisplayData d = renderer.render(img);
            BufferedImage png = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode((String) d.getData(MIMEType.IMAGE_PNG))));
            assertEquals(8, png.getWidth());
            assertEquals("red apple · steps 2 · cfg 3.0 · seed 4", d.getData(MIMEType.TEXT_PLAIN));
            DisplayData config = renderer.render(flow.config());
            assertTrue(((String) config.getData(MIMEType.TEXT_HTML)).contains("<tr><td style=\"text-align:left\"><code>genImageSize</code></td><td style=\"text-align:left\">8</td></tr>"));
        }
    }

    @Test
    void latteMagicsRunThroughABasekernelMagicsRegistryAndNeverThrow() throws Exception {
        List<Object> shown = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        List<SamplingProgress> live = new ArrayList<>();
        NotebookOutput out = new NotebookOutput() {
            public void show(Object value) { shown.add(value); }
            public LiveDisplay live(Object initial) {
                live.add((SamplingProgress) initial);
                return v -> live.add((SamplingProgress) v);
            }
            public void error(String line) { errors.add(line); }
        };
        try (LatteSession session = new LatteSession()) {
            Magics registry = new Magics();
            LatteNotebook.registerMagics(registry, new LatteMagics(session, out, name -> Optional.empty()));
            assertNull(registry.applyLineMagic("latte", List.of("info")));
            assertEquals(List.of("latte: no model loaded: run %latte load [dir] first"), errors);

            session.use(LatteFlow.create(LatteConfig.tiny(), 2), "tiny");
            Object grid = registry.applyCellMagic("latte", List.of("generate", "--steps", "4"), "cat\ndog");
            assertEquals(2, ((PromptGrid) grid).images().size());
            assertSame(grid, shown.get(shown.size() - 1));
            assertEquals(List.of(0, 1, 2, 3, 4), live.stream().map(SamplingProgress::step).toList());
            assertEquals(2, live.get(live.size() - 1).previews().size(), "the last update shows both pictures");
            assertTrue(live.get(0).previews().isEmpty(), "nothing to preview before the first step");
            assertEquals(2, live.get(1).previews().size(), "4 steps: a preview after every step");
        }
    }

    @Test
    void latteLoadOfAHuggingFaceQwen2VlFolderAnswersAboutAnImageAtItsOwnSize() throws Exception {
        Path folders = Path.of("../model/core/src/test/resources/fixtures/qwen2vl-folders");
        Path hf = folders.resolve("tied-bf16-sharded"), wide = folders.resolve("wide.png");
        String question = "What is in this picture?";
        List<Object> shown = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        NotebookOutput out = new NotebookOutput() {
            public void show(Object value) { shown.add(value); }
            public LiveDisplay live(Object initial) { return v -> { }; }
            public void error(String line) { errors.add(line); }
        };
        try (LatteSession session = new LatteSession()) {
            Magics registry = new Magics();
            LatteNotebook.registerMagics(registry, new LatteMagics(session, out, name -> Optional.empty()));
            assertInstanceOf(LatteSession.LoadedModel.class, registry.applyLineMagic("latte", List.of("load", hf.toString())), errors.toString());
            Object answer = registry.applyLineMagic("latte", List.of("ask", wide.toString(), question));
            assertEquals(List.of(), errors);
            Answer a = assertInstanceOf(Answer.class, answer);
            assertSame(a, shown.get(shown.size() - 1));
            assertEquals(48, a.image().getWidth(), "the model looked at the 48x24 image unresized");
            assertEquals(24, a.image().getHeight(), "the model looked at the 48x24 image unresized");
            try (LatteFlow direct = LatteFlow.load(hf)) {
                assertEquals(direct.answer(VqaRequest.of(ImageIO.read(wide.toFile()), question)), a.answer(),
                        "the answer LatteFlow gives in-process");
            }
        }
    }
}
