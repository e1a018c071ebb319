package io.latteflow.examples.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code --force} may remove: the files a command's marker lists (for the demo, also Flink's part files), nothing
 * else, and never through a link (issue 19).
 */
class OutputFolderTest {
    private static final String PART = "part-427eb987-1b0e-436f-958e-765b2713c23d-0";

    @TempDir
    Path dir;

    private Path write(String relative, String text) throws Exception {
        Path p = dir.resolve(relative);
        Files.createDirectories(p.getParent());
        return Files.writeString(p, text);
    }

    @Test
    void clearRemovesTheListedFilesAndPartFilesAndKeepsEveryOtherFile() throws Exception {
        Path out = dir.resolve("out");
        OutputFolder folder = OutputFolder.demo(out);
        folder.claim(List.of("stream/", "index.html", "images/", "images/img-0000.png"));
        write("out/stream/images/2026-12-07--06/" + PART, "{}");
        write("out/stream/answers/2026-12-07--06/." + PART + ".inprogress.0c1d", "{}");
        write("out/index.html", "<title>LaTtE-Flow streaming demo</title>");
        write("out/images/img-0000.png", "png");
        Path thesis = write("out/mythesis/chapter1.tex", "\\chapter{One}");
        Path notes = write("out/notes.txt", "mine");
        Path mine = write("out/images/holiday.png", "mine");
        Path kept = write("out/stream/images/README.txt", "mine too");
        assertTrue(folder.holdsOutput());

        folder.clear();
        assertEquals("\\chapter{One}", Files.readString(thesis));
        assertEquals("mine", Files.readString(notes));
        assertEquals("mine", Files.readString(mine));
        assertEquals("mine too", Files.readString(kept), "a file the sinks did not name stays, with its folders");
        assertFalse(Files.exists(out.resolve("index.html")));
        assertFalse(Files.exists(out.resolve("images/img-0000.png")));
        assertFalse(Files.exists(out.resolve("stream/answers")), "emptied folders the demo made go");
        assertFalse(Files.exists(out.resolve(OutputFolder.Tool.DEMO.marker)));
        assertTrue(Files.isDirectory(out.resolve("images")), "it still holds the user's picture");
    }

    @Test
    void markerEntriesThatLeaveTheFolderOrGoThroughALinkAreIgnored() throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Path outside = write("outside.txt", "not the demo's");
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Path theirs = write("elsewhere/img-0000.png", "not the demo's");
        Files.createSymbolicLink(out.resolve("images"), elsewhere);
        Path absolute = write("absolute.txt", "not the demo's");
        Files.write(out.resolve(OutputFolder.Tool.DEMO.marker), List.of("../outside.txt", "images/img-0000.png", absolute.toString()),
                StandardCharsets.UTF_8);
        OutputFolder.demo(out).clear();
        assertTrue(Files.exists(outside));
        assertTrue(Files.exists(absolute));
        assertTrue(Files.exists(theirs), "the link was not followed");
    }

    @Test
    void anOlderDemoWithoutAMarkerLosesOnlyItsOwnOutput() throws Exception {
        Path out = dir.resolve("old");
        write("old/stream/images/2026-12-07--06/" + PART, "{\"id\":\"img-0000\",\"prompt\":\"red apple\",\"png\":\"\",\"batch\":1,\"latency_ms\":1}");
        write("old/index.html", "<!doctype html><html><head><meta charset=\"utf-8\"><title>LaTtE-Flow streaming demo</title>");
        write("old/images/img-0000.png", "png");
        Path notes = write("old/notes.txt", "mine");
        Path other = write("old/images/img-0001.png", "not committed by that demo");
        OutputFolder folder = OutputFolder.demo(out);
        assertTrue(folder.holdsOutput());
        folder.clear();
        assertFalse(Files.exists(out.resolve("stream")));
        assertFalse(Files.exists(out.resolve("index.html")));
        assertFalse(Files.exists(out.resolve("images/img-0000.png")));
        assertTrue(Files.exists(notes));
        assertTrue(Files.exists(other));
    }

    @Test
    void claimRefusesAFileTheDemoWouldOverwrite() throws Exception {
        Path out = dir.resolve("out");
        write("out/index.html", "<p>my own page</p>");
        CliError e = assertThrows(CliError.class, () -> OutputFolder.demo(out).claim(List.of("stream/", "index.html")));
        assertTrue(e.getMessage().contains("already holds 'index.html', which 'latte demo' did not write"), e.getMessage());
        assertEquals("<p>my own page</p>", Files.readString(out.resolve("index.html")));
        assertFalse(Files.exists(out.resolve(OutputFolder.Tool.DEMO.marker)));
    }

    /** A training run's folder: its files, its checkpoint tree (links in it removed as links), and nothing of the user's. */
    @Test
    void aTrainingRunsOwnTreesGoWholeAndTheUsersFilesAndLinkTargetsStay() throws Exception {
        Path out = dir.resolve("run");
        OutputFolder folder = OutputFolder.at(out, OutputFolder.Tool.TRAIN);
        List<String> entries = List.of("run.json", "config.json", "model.safetensors", "checkpoint/**", "snapshots/**");
        folder.claim(entries);
        write("run/run.json", "{}");
        write("run/config.json", "{}");
        write("run/checkpoint/trainer.safetensors", "state");
        write("run/snapshots/step-10/model.safetensors", "weights");
        Path elsewhere = write("elsewhere/data.bin", "not the run's");
        Files.createSymbolicLink(out.resolve("checkpoint/link"), elsewhere.getParent());
        Path notes = write("run/notes.txt", "mine");
        Path thesis = write("run/mythesis/chapter1.tex", "\\chapter{One}");
        assertTrue(folder.holdsOutput());
        folder.requireClaimable(entries);

        folder.clear();
        assertFalse(Files.exists(out.resolve("run.json")));
        assertFalse(Files.exists(out.resolve("checkpoint"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(out.resolve("snapshots")));
        assertEquals("not the run's", Files.readString(elsewhere), "the link was removed, not followed");
        assertEquals("mine", Files.readString(notes));
        assertEquals("\\chapter{One}", Files.readString(thesis));
        folder.claim(entries);
        assertTrue(Files.readString(out.resolve(OutputFolder.Tool.TRAIN.marker)).contains("checkpoint/**"));
    }

    @Test
    void aUsersFileOrLinkWhereTheCommandWritesIsRefusedBeforeAnythingIsRemoved() throws Exception {
        Path out = dir.resolve("run");
        OutputFolder folder = OutputFolder.at(out, OutputFolder.Tool.INIT_COUPLE);
        write("run/config.json", "my own config");
        Path target = write("secret.json", "not the model's");
        Files.createSymbolicLink(out.resolve("model.safetensors"), target);
        Files.createDirectories(out.resolve("checkpoint"));
        for (String e : List.of("config.json", "model.safetensors", "checkpoint/**")) {
            CliError refused = assertThrows(CliError.class, () -> folder.requireClaimable(List.of(e)));
            assertTrue(refused.getMessage().contains("already holds '" + e.replace("/**", "/") + "', which 'latte init-couple' did not write"),
                    refused.getMessage());
            assertThrows(CliError.class, () -> folder.claim(List.of(e)));
        }
        assertFalse(folder.holdsOutput());
        assertEquals("my own config", Files.readString(out.resolve("config.json")));
        assertEquals("not the model's", Files.readString(target));
    }

    /** A run from before markers is recognised by its run.json; what it wrote goes, the user's files stay. */
    @Test
    void aTrainingRunWithoutAMarkerLosesOnlyItsOwnFiles() throws Exception {
        Path out = dir.resolve("old-run");
        write("old-run/run.json", "{}");
        write("old-run/model.safetensors", "weights");
        write("old-run/checkpoint.old/model.safetensors", "weights");
        Path notes = write("old-run/notes.txt", "mine");
        OutputFolder folder = OutputFolder.at(out, OutputFolder.Tool.TRAIN);
        assertTrue(folder.holdsOutput());
        folder.requireClaimable(OutputFolder.TRAINING_RUN);
        folder.clear();
        assertFalse(Files.exists(out.resolve("run.json")));
        assertFalse(Files.exists(out.resolve("checkpoint.old")));
        assertEquals("mine", Files.readString(notes));
        assertFalse(OutputFolder.at(out, OutputFolder.Tool.INIT_COUPLE).holdsOutput());
    }
}
