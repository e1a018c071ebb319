package io.latteflow.examples.soak;

import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The soak CSVs as PNGs (XChart).
 *
 * <pre>
 * java -cp examples/target/latte.jar io.latteflow.examples.soak.SoakPlot model target/soak/model docs/soak-model.png
 * java -cp examples/target/latte.jar io.latteflow.examples.soak.SoakPlot flink target/soak/flink docs/soak-flink
 *     (writes docs/soak-flink-memory.png and docs/soak-flink-progress.png; a fourth argument is added to the titles)
 * </pre>
 */
public final class SoakPlot {
    private SoakPlot() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3 || args.length > 4 || !List.of("model", "flink").contains(args[0])) {
            System.err.println("usage: SoakPlot model RUN_DIR OUT.png [NOTE] | SoakPlot flink RUN_DIR OUT_PREFIX [NOTE]");
            System.exit(2);
        }
        Path run = Path.of(args[1]);
        String note = args.length == 4 ? " " + args[3] : "";
        if (args[0].equals("model")) model(run, Path.of(args[2]), note);
        else flink(run, args[2], note);
    }

    private static List<Map<String, String>> csv(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String[] header = lines.get(0).split(",");
        List<Map<String, String>> rows = new ArrayList<>();
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split(",", -1);
            if (f.length != header.length) continue;                     // a line cut short by a stopped run
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < header.length; i++) row.put(header[i], f[i]);
            rows.add(row);
        }
        return rows;
    }

    private static double num(Map<String, String> row, String key) {
        String v = row.get(key);
        return v == null || v.isEmpty() ? Double.NaN : Double.parseDouble(v);
    }

    static void model(Path run, Path png, String note) throws IOException {
        List<Map<String, String>> rows = csv(run.resolve("samples.csv")).stream()
                .filter(r -> !r.get("trigger").equals("start")).toList();
        double[] minutes = rows.stream().mapToDouble(r -> num(r, "t_s") / 60).toArray();
        long requests = rows.isEmpty() ? 0 : (long) (num(rows.get(rows.size() - 1), "generations") + num(rows.get(rows.size() - 1), "answers"));
        XYChart c = chart("Model soak: " + String.format("%,d", requests) + " generations + answers in one JVM" + note, "minutes", "MB");
        line(c, "resident (VmRSS)", minutes, rows.stream().mapToDouble(r -> num(r, "rss_mb")).toArray(), new Color(0xC0392B));
        line(c, "heap committed", minutes, rows.stream().mapToDouble(r -> num(r, "heap_committed_mb")).toArray(), new Color(0x7F8C8D));
        line(c, "heap used", minutes, rows.stream().mapToDouble(r -> num(r, "heap_used_mb")).toArray(), new Color(0x95A5A6));
        line(c, "heap after GC", minutes, rows.stream().mapToDouble(r -> num(r, "heap_after_gc_mb")).toArray(), new Color(0x2471A3));
        // The end of warm-up: the first sample at or after a tenth of the requests.
        for (Map<String, String> r : rows) {
            if (num(r, "generations") + num(r, "answers") >= requests / 10.0) {
                c.addAnnotation(new AnnotationLine(num(r, "t_s") / 60, true, false));
                break;
            }
        }
        save(c, png);
    }

    static void flink(Path run, String prefix, String note) throws IOException {
        List<Map<String, String>> rows = csv(run.resolve("samples.csv"));
        List<Map<String, String>> kills = Files.exists(run.resolve("kills.csv")) ? csv(run.resolve("kills.csv")) : List.of();
        Map<String, List<double[]>> byProcess = new LinkedHashMap<>();
        for (Map<String, String> r : rows) {
            byProcess.computeIfAbsent(r.get("process"), k -> new ArrayList<>())
                    .add(new double[]{num(r, "t_s") / 60, num(r, "rss_mb"), num(r, "heap_used_mb"),
                            r.containsKey("heap_resident_mb") ? num(r, "rss_mb") - num(r, "heap_resident_mb") : Double.NaN});
        }
        XYChart mem = chart("Flink soak: TaskManager memory (vertical lines: SIGKILLs)" + note, "minutes", "MB");
        series(mem, "tm-a: resident (lives through every restart)", byProcess.get("tm-a"), 1, new Color(0xC0392B));
        series(mem, "tm-a: heap used", byProcess.get("tm-a"), 2, new Color(0xE6B0AA));
        if (rows.get(0).containsKey("heap_resident_mb")) {
            series(mem, "tm-a: resident outside the heap", byProcess.get("tm-a"), 3, new Color(0x8E44AD));
        }
        // The replaced TaskManagers as one series, broken (NaN) between processes.
        List<double[]> victims = new ArrayList<>();
        int n = 0;
        for (Map.Entry<String, List<double[]>> e : byProcess.entrySet()) {
            if (!e.getKey().startsWith("tm-b")) continue;
            if (!victims.isEmpty()) victims.add(new double[]{e.getValue().get(0)[0], Double.NaN, Double.NaN, Double.NaN});
            victims.addAll(e.getValue());
            n++;
        }
        series(mem, "tm-b0..tm-b" + (n - 1) + ": resident (each killed after a minute)", victims, 1, new Color(0x2471A3));
        series(mem, "tm-b*: heap used", victims, 2, new Color(0xA9CCE3));
        series(mem, "JobManager: resident", byProcess.get("jobmanager"), 1, new Color(0x7F8C8D));
        for (Map<String, String> k : kills) mem.addAnnotation(new AnnotationLine(num(k, "t_s") / 60, true, false));
        save(mem, Path.of(prefix + "-memory.png"));

        XYChart progress = chart("Flink soak: results committed (vertical lines: SIGKILLs)" + note, "minutes", "results");
        List<double[]> committed = new ArrayList<>();
        for (Map<String, String> r : rows) if (r.get("process").equals("jobmanager")) committed.add(new double[]{num(r, "t_s") / 60, num(r, "committed")});
        series(progress, "committed results", committed, 1, new Color(0x27AE60));
        for (Map<String, String> k : kills) progress.addAnnotation(new AnnotationLine(num(k, "t_s") / 60, true, false));
        save(progress, Path.of(prefix + "-progress.png"));
    }

    private static XYChart chart(String title, String x, String y) {
        XYChart c = new XYChartBuilder().width(900).height(480).title(title).xAxisTitle(x).yAxisTitle(y).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setMarkerSize(0);
        c.getStyler().setYAxisMin(0.0);
        return c;
    }

    private static void series(XYChart c, String name, List<double[]> rows, int column, Color color) {
        if (rows == null || rows.isEmpty()) return;
        line(c, name, rows.stream().mapToDouble(r -> r[0]).toArray(), rows.stream().mapToDouble(r -> r[column]).toArray(), color);
    }

    private static void line(XYChart c, String name, double[] x, double[] y, Color color) {
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(color);
    }

    private static void save(XYChart chart, Path file) throws IOException {
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        System.err.println("wrote " + file);
    }
}
