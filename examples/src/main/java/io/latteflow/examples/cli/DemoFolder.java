package io.latteflow.examples.cli;

import io.latteflow.examples.demo.ContactSheet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The {@code --out} folder of {@code latte demo} and what the demo wrote into it. A marker file, {@value #MARKER},
 * lists every file and folder the demo creates there, written before the run, so that {@code --force} removes exactly
 * those and never a file of the user's (issue 19: {@code --force} deleted the whole folder, a thesis and notes the
 * user kept beside an earlier demo's output with it). Flink's sinks name their part files themselves, so under
 * {@code stream/} the files removed are the ones named as Flink's FileSink names them. A folder the demo created is
 * removed only when nothing else is left in it; nothing is removed outside the folder or through a link.
 *
 * <pre>{@code
 * DemoFolder folder = DemoFolder.at(out);
 * if (folder.holdsOutput()) folder.clear();                 // with --force
 * folder.claim(List.of("stream/", "index.html", "images/img-0000.png"));
 * }</pre>
 */
final class DemoFolder {
    static final String MARKER = ".latte-demo";
    private static final String HEADER = "# Written by 'latte demo': the files and folders (ending in /) it made here. "
            + "'latte demo --force' removes these and nothing else.";
    /** Flink FileSink part files, finished or in progress: part-UUID-N, .part-UUID-N.inprogress.UUID. */
    private static final Pattern PART_FILE = Pattern.compile("\\.?part-[0-9a-f-]+-\\d+(\\.inprogress\\.[0-9a-f-]+)?");
    /** What the contact sheet page of every version of the demo starts with. */
    private static final String PAGE_TITLE = "<title>LaTtE-Flow streaming demo</title>";

    private final Path dir;

    private DemoFolder(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    static DemoFolder at(Path dir) {
        return new DemoFolder(dir);
    }

    /** True when an earlier demo wrote here (with a marker, or an older demo without one: its {@code stream/}). */
    boolean holdsOutput() {
        return Files.exists(marker(), LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(dir.resolve("stream"), LinkOption.NOFOLLOW_LINKS);
    }

    /** Removes what the earlier demo wrote, as its marker lists it (or, for an older demo, as its output shows it). */
    void clear() throws IOException {
        List<String> entries = Files.exists(marker(), LinkOption.NOFOLLOW_LINKS) ? readMarker() : olderDemosEntries();
        List<Path> folders = new ArrayList<>();
        for (String entry : entries) {
            Path p = inside(entry);
            if (p == null) continue;                                       // a marker entry that points outside: ignored
            if (entry.endsWith("/")) folders.add(p);
            else deleteFile(p);
        }
        if (entries.contains("stream/")) deletePartFiles(dir.resolve("stream"), folders);
        folders.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path f : folders) {
            try {
                if (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)) Files.delete(f);
            } catch (DirectoryNotEmptyException usersFilesInside) {
                // a file the demo did not write is in it: the folder stays, with that file
            }
        }
        Files.deleteIfExists(marker());
    }

    /**
     * Refuses when any of {@code entries} (relative paths; folders end in /) exists already, which means a file the
     * demo did not write (call {@link #clear} first for the demo's own), then lists them in the marker.
     */
    void claim(List<String> entries) throws IOException {
        Set<String> all = new LinkedHashSet<>();
        for (String e : entries) {
            Path p = dir.resolve(e);
            if (e.endsWith("/") ? Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                    : Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new CliError("--out '" + dir + "' already holds '" + e + "', which 'latte demo' did not write; "
                        + "choose another folder (--force replaces only a demo's own output)");
            }
            if (e.endsWith("/") && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                if (e.equals("stream/")) throw new CliError("--out '" + dir + "' already holds 'stream/', which 'latte demo' did not write; choose another folder");
                continue;                        // the user's folder (images/, say): the demo's files in it are listed, not it
            }
            all.add(e);
        }
        Files.createDirectories(dir);
        Files.write(marker(), lines(all), StandardCharsets.UTF_8);
    }

    private Path marker() {
        return dir.resolve(MARKER);
    }

    private List<String> readMarker() throws IOException {
        return Files.readAllLines(marker(), StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    private static List<String> lines(Set<String> entries) {
        List<String> out = new ArrayList<>();
        out.add(HEADER);
        out.addAll(entries);
        return out;
    }

    /**
     * A demo older than the marker: its stream part files, its page (by its title) and the PNGs of the images its
     * stream committed; anything else is left alone.
     */
    private List<String> olderDemosEntries() throws IOException {
        List<String> entries = new ArrayList<>(List.of("stream/"));
        Path page = dir.resolve("index.html");
        if (Files.isRegularFile(page, LinkOption.NOFOLLOW_LINKS) && Files.readString(page, StandardCharsets.UTF_8).contains(PAGE_TITLE)) {
            entries.add("index.html");
        }
        for (String id : ContactSheet.read(dir).imageIds()) entries.add("images/" + id + ".png");
        entries.add("images/");
        return entries;
    }

    /** FileSink part files below {@code stream}; the folders they were in become candidates for removal. */
    private void deletePartFiles(Path stream, List<Path> folders) throws IOException {
        if (!Files.isDirectory(stream, LinkOption.NOFOLLOW_LINKS)) return;
        List<Path> all;
        try (Stream<Path> walk = Files.walk(stream)) {                     // does not follow links
            all = walk.toList();
        }
        for (Path p : all) {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) folders.add(p);
            else if (PART_FILE.matcher(p.getFileName().toString()).matches()) deleteFile(p);
        }
    }

    /** A regular file, not a link, whose real folder is inside this one. */
    private void deleteFile(Path p) throws IOException {
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return;
        if (!p.getParent().toRealPath().startsWith(dir.toRealPath())) return;
        Files.delete(p);
    }

    /** The entry as a path inside this folder, or null when it would leave it. */
    private Path inside(String entry) {
        Path p = dir.resolve(entry).normalize();
        return p.startsWith(dir) && !p.equals(dir) ? p : null;
    }
}
