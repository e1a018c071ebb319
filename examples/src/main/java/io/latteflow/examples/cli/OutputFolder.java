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
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The {@code --out} folder of a command that writes several files ({@code latte demo}, {@code train},
 * {@code init-couple}) and what the command wrote into it. A marker file lists every file and folder the command
 * creates there, written before the command writes anything, so that {@code --force} removes exactly those and never
 * a file of the user's (issue 19: {@code --force} deleted the whole folder, a thesis and notes the user kept beside an
 * earlier demo's output with it; {@code train --force} and {@code init-couple --force} did the same).
 *
 * <p>The marker's entries are paths relative to the folder:
 * <ul>
 *   <li>{@code name}: a file the command writes; removed when it is a regular file (never a link, never through one);</li>
 *   <li>{@code name/}: a folder the command writes files into; it may be the user's, and is removed only when nothing
 *   else is left in it;</li>
 *   <li>{@code name/**}: a folder wholly the command's (a training checkpoint, which the run itself replaces whole);
 *   it must not exist before the command, and is removed with what is in it, links as links, never followed.</li>
 * </ul>
 * Flink's sinks name the demo's part files themselves, so under the demo's {@code stream/} the files removed are the
 * ones named as Flink's FileSink names them. Nothing is removed outside the folder, and an entry that would leave it
 * ({@code ../x}, an absolute path) is ignored.
 *
 * <pre>{@code
 * OutputFolder folder = OutputFolder.at(out, OutputFolder.Tool.TRAIN);
 * folder.requireClaimable(entries);                  // before any work: refuses a user's file in the way
 * if (force && folder.holdsOutput()) folder.clear(); // only what an earlier run listed
 * folder.claim(List.of("run.json", "config.json", "checkpoint/**"));
 * }</pre>
 */
final class OutputFolder {
    /** The commands that mark their output folders, and the marker each writes. */
    enum Tool {
        DEMO("latte demo", ".latte-demo"),
        TRAIN("latte train", ".latte-output"),
        INIT_COUPLE("latte init-couple", ".latte-output");

        final String command;
        final String marker;

        Tool(String command, String marker) {
            this.command = command;
            this.marker = marker;
        }
    }

    /** Flink FileSink part files, finished or in progress: part-UUID-N, .part-UUID-N.inprogress.UUID. */
    private static final Pattern PART_FILE = Pattern.compile("\\.?part-[0-9a-f-]+-\\d+(\\.inprogress\\.[0-9a-f-]+)?");
    /** What the contact sheet page of every version of the demo starts with. */
    private static final String PAGE_TITLE = "<title>LaTtE-Flow streaming demo</title>";
    /** The demo's Flink sink folder: its own, never shared with the user's files. */
    private static final String SINK = "stream/";
    private static final String TREE = "/**";
    /** What a training run wrote before runs marked their folders: recognised by its run.json. */
    static final List<String> TRAINING_RUN = List.of("run.json", "metrics.jsonl", "train.json", "config.json", "model.safetensors",
            "tokenizer.json", "checkpoint/**", "checkpoint.partial/**", "checkpoint.old/**", "snapshots/**");

    private final Path dir;
    private final Tool tool;

    private OutputFolder(Path dir, Tool tool) {
        this.dir = dir.toAbsolutePath().normalize();
        this.tool = tool;
    }

    static OutputFolder at(Path dir, Tool tool) {
        return new OutputFolder(dir, tool);
    }

    /** The demo's {@code --out}. */
    static OutputFolder demo(Path dir) {
        return at(dir, Tool.DEMO);
    }

    /**
     * True when an earlier run of the command wrote here: with a marker, or from before markers a demo's
     * {@code stream/} or a training run's {@code run.json}.
     */
    boolean holdsOutput() {
        if (Files.exists(marker(), LinkOption.NOFOLLOW_LINKS)) return true;
        return switch (tool) {
            case DEMO -> Files.isDirectory(dir.resolve("stream"), LinkOption.NOFOLLOW_LINKS);
            case TRAIN -> Files.isRegularFile(dir.resolve("run.json"), LinkOption.NOFOLLOW_LINKS);
            case INIT_COUPLE -> false;
        };
    }

    /** Removes what the earlier run wrote, as its marker lists it (or, from before markers, as its output shows it). */
    void clear() throws IOException {
        List<String> entries = earlierEntries();
        List<Path> folders = new ArrayList<>();
        for (String entry : entries) {
            if (entry.endsWith(TREE)) {
                Path p = inside(entry.substring(0, entry.length() - TREE.length()));
                if (p != null) deleteOwnedTree(p);
                continue;
            }
            Path p = inside(entry);
            if (p == null) continue;                                       // a marker entry that points outside: ignored
            if (entry.endsWith("/")) folders.add(p);
            else deleteFile(p);
        }
        if (tool == Tool.DEMO && entries.contains(SINK)) deletePartFiles(dir.resolve("stream"), folders);
        folders.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path f : folders) {
            try {
                if (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)) Files.delete(f);
            } catch (DirectoryNotEmptyException usersFilesInside) {
                // a file the command did not write is in it: the folder stays, with that file
            }
        }
        Files.deleteIfExists(marker());
    }

    /**
     * Refuses, before any work, when something the command would write ({@code entries}) is in the way and
     * {@link #clear} would not remove it: a user's file, a link, or a folder where a file belongs.
     */
    void requireClaimable(List<String> entries) throws IOException {
        Set<String> ours = holdsOutput() ? new HashSet<>(earlierEntries()) : Set.of();
        for (String e : entries) {
            if (inTheWay(e) && !(ours.contains(e) && removable(e))) throw notOurs(e);
        }
    }

    /**
     * Refuses when any of {@code entries} (relative paths; folders end in / or /**) is in the way, which means a file
     * the command did not write (call {@link #clear} first for the command's own), then lists them in the marker.
     */
    void claim(List<String> entries) throws IOException {
        Set<String> all = new LinkedHashSet<>();
        for (String e : entries) {
            if (inTheWay(e)) throw notOurs(e);
            if (e.endsWith("/") && Files.isDirectory(dir.resolve(e), LinkOption.NOFOLLOW_LINKS)) {
                continue;                        // the user's folder (images/, say): the command's files in it are listed, not it
            }
            all.add(e);
        }
        Files.createDirectories(dir);
        List<String> lines = new ArrayList<>();
        lines.add("# Written by '" + tool.command + "': the files and folders (ending in /; /** when all in it is ours) it made "
                + "here. '" + tool.command + " --force' removes these and nothing else.");
        lines.addAll(all);
        Files.write(marker(), lines, StandardCharsets.UTF_8);
    }

    /** Whether what is at entry {@code e} stops the command from writing it as its own. */
    private boolean inTheWay(String e) {
        if (e.endsWith(TREE)) return Files.exists(dir.resolve(e.substring(0, e.length() - TREE.length())), LinkOption.NOFOLLOW_LINKS);
        Path p = dir.resolve(e);
        if (!e.endsWith("/")) return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return false;
        return !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) || (tool == Tool.DEMO && e.equals(SINK));
    }

    /** Whether {@link #clear} removes what is at a listed entry (a link or another kind of thing stays). */
    private boolean removable(String e) {
        if (e.endsWith(TREE)) return Files.isDirectory(dir.resolve(e.substring(0, e.length() - TREE.length())), LinkOption.NOFOLLOW_LINKS);
        if (e.endsWith("/")) return Files.isDirectory(dir.resolve(e), LinkOption.NOFOLLOW_LINKS);
        return Files.isRegularFile(dir.resolve(e), LinkOption.NOFOLLOW_LINKS);
    }

    private CliError notOurs(String e) {
        return new CliError("--out '" + dir + "' already holds '" + e.replace(TREE, "/") + "', which '" + tool.command
                + "' did not write; move it or choose another folder (--force replaces only what '" + tool.command + "' wrote there)");
    }

    private Path marker() {
        return dir.resolve(tool.marker);
    }

    private List<String> earlierEntries() throws IOException {
        if (Files.exists(marker(), LinkOption.NOFOLLOW_LINKS)) return readMarker();
        return switch (tool) {
            case DEMO -> olderDemosEntries();
            case TRAIN -> Files.isRegularFile(dir.resolve("run.json"), LinkOption.NOFOLLOW_LINKS) ? TRAINING_RUN : List.of();
            case INIT_COUPLE -> List.of();
        };
    }

    private List<String> readMarker() throws IOException {
        if (!Files.isRegularFile(marker(), LinkOption.NOFOLLOW_LINKS)) return List.of();     // a link is not our marker
        return Files.readAllLines(marker(), StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    /**
     * A demo older than the marker: its stream part files, its page (by its title) and the PNGs of the images its
     * stream committed; anything else is left alone.
     */
    private List<String> olderDemosEntries() throws IOException {
        if (!Files.isDirectory(dir.resolve("stream"), LinkOption.NOFOLLOW_LINKS)) return List.of();
        List<String> entries = new ArrayList<>(List.of(SINK));
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

    /** A folder wholly the command's, with what is in it: links are removed as links, never followed. */
    private void deleteOwnedTree(Path p) throws IOException {
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) return;     // a link or a file in its place: not ours
        if (!p.getParent().toRealPath().startsWith(dir.toRealPath())) return;
        Outputs.deleteTree(p);                                             // does not follow links
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
