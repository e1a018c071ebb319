package io.latteflow.examples.cli;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A folder of captioned PNGs: every {@code *.png} in it, captioned by {@code captions.tsv} ("file TAB caption" per
 * line, '#' comments) when the folder has one, otherwise by its file name without the extension, '_' and '-' read
 * as spaces. Every image is read up front, so bad input fails before anything is written.
 */
record TrainingSet(List<Example> examples) {
    static final String CAPTIONS = "captions.tsv";

    record Example(Path file, String caption, BufferedImage image) {
    }

    static TrainingSet load(Path dir) {
        if (!Files.exists(dir)) throw new CliError("Image folder '" + dir + "' does not exist");
        if (!Files.isDirectory(dir)) throw new CliError("--images '" + dir + "' is not a folder");
        List<Path> pngs;
        try (Stream<Path> files = Files.list(dir)) {
            pngs = files.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"))
                    .filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new CliError("Cannot list image folder '" + dir + "': " + e.getMessage(), e);
        }
        if (pngs.isEmpty()) throw new CliError("Image folder '" + dir + "' has no .png files");
        Map<String, String> captions = readCaptions(dir.resolve(CAPTIONS));
        for (String name : captions.keySet()) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                throw new CliError(dir.resolve(CAPTIONS) + " names '" + name + "', which is not a file in " + dir);
            }
        }
        List<Example> out = new ArrayList<>();
        for (Path png : pngs) {
            String name = png.getFileName().toString();
            String caption = captions.getOrDefault(name, captionFromName(name));
            out.add(new Example(png, caption, readPng(png)));
        }
        return new TrainingSet(List.copyOf(out));
    }

    /** {@code red_apple-2.png} -> {@code "red apple 2"}. */
    static String captionFromName(String fileName) {
        int dot = fileName.lastIndexOf('.');
        String stem = dot > 0 ? fileName.substring(0, dot) : fileName;
        return stem.replace('_', ' ').replace('-', ' ').trim().replaceAll("\\s+", " ");
    }

    private static Map<String, String> readCaptions(Path tsv) {
        Map<String, String> map = new LinkedHashMap<>();
        if (!Files.exists(tsv)) return map;
        List<String> lines;
        try {
            lines = Files.readAllLines(tsv, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliError("Cannot read " + tsv + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) continue;
            int tab = line.indexOf('\t');
            if (tab <= 0) throw new CliError(tsv + " line " + (i + 1) + ": expected 'file<TAB>caption', got '" + line + "'");
            map.put(line.substring(0, tab).trim(), line.substring(tab + 1).trim());
        }
        return map;
    }

    private static BufferedImage readPng(Path png) {
        try {
            BufferedImage img = ImageIO.read(png.toFile());
            if (img == null) throw new CliError("'" + png + "' is not a readable PNG image");
            return img;
        } catch (IOException e) {
            throw new CliError("'" + png + "' is not a readable PNG image: " + e.getMessage(), e);
        }
    }

    List<String> captions() {
        return examples.stream().map(Example::caption).toList();
    }

    int size() {
        return examples.size();
    }
}
