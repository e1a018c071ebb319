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

/** What {@code latte demo --force} may remove: the files its marker lists and Flink's part files, nothing else (issue 19). */
class DemoFolderTest {
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
        DemoFolder folder = DemoFolder.at(out);
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
        assertFalse(Files.exists(out.resolve(DemoFolder.MARKER)));
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
        Files.write(out.resolve(DemoFolder.MARKER), List.of("../outside.txt", "images/img-0000.png", absolute.toString()),
                StandardCharsets.UTF_8);
        DemoFolder.at(out).clear();
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
        DemoFolder folder = DemoFolder.at(out);
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
        CliError e = assertThrows(CliError.class, () -> DemoFolder.at(out).claim(List.of("stream/", "index.html")));
        assertTrue(e.getMessage().contains("already holds 'index.html', which 'latte demo' did not write"), e.getMessage());
        assertEquals("<p>my own page</p>", Files.readString(out.resolve("index.html")));
        assertFalse(Files.exists(out.resolve(DemoFolder.MARKER)));
    }
}
