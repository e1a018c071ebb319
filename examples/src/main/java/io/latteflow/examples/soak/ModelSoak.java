package io.latteflow.examples.soak;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.management.GarbageCollectionNotificationInfo;
import io.latteflow.examples.demo.StreamingDemo;
import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.ImageBytes;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import org.bytedeco.javacpp.Pointer;

import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import java.awt.image.BufferedImage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Model soak (issue 19, item 3): many generations and answers in one JVM through the public API
 * ({@link LatteFlow#load}, {@link LatteFlow#generate(List)}, {@link LatteFlow#answer(List)}), the process's resident
 * memory (VmRSS), heap and JavaCPP's native bytes sampled every few seconds and every few hundred requests.
 * A long run, not a test: {@code bench/soak.sh model} runs it in the background with the launcher's JVM settings.
 *
 * <pre>
 * java -Xmx4g [the flags of ./latte] -cp examples/target/latte.jar io.latteflow.examples.soak.ModelSoak \
 *   --model models/latte-emoji --generations 10000 --answers 10000 --batch 8 --steps 20 \
 *   --images data/emoji/google/64 --out target/soak/model
 * </pre>
 *
 * Each round draws a batch of {@code --batch} captions ({@code --steps} steps, guidance as configured, PNG-encoded as a
 * user saving them would) and then asks {@code --batch} questions, alternately about the images just drawn and about
 * real PNGs from {@code --images} (when given). Writes {@code OUT/samples.csv} (one row per sample, flushed as it goes,
 * so a run that is stopped keeps what it measured) and {@code OUT/summary.json}: resident memory after loading, at
 * the end of warm-up ({@code --warmup} requests, default a tenth of them), at the end and at its peak, and the
 * least-squares slope after warm-up in MB per 1,000 requests. {@link SoakPlot} draws the CSV.
 */
public final class ModelSoak {
    static final String USAGE = """
            usage: ModelSoak [--model DIR] [--generations N] [--answers N] [--batch N] [--steps N] [--images DIR]
                             [--warmup REQUESTS] [--sample-s SECONDS] [--sample-every REQUESTS] [--out DIR]""";
    static final List<String> QUESTIONS = List.of("what is this?", "which category is this?", "which subcategory is this?",
            "is this a flag?", "what skin tone is this?");

    private final Path out;
    private final long start = System.nanoTime();
    private final BufferedWriter csv;
    private final Set<String> heapPools = new HashSet<>();
    private volatile long generations, answers;
    private volatile double heapAfterGcMb = Double.NaN;
    private volatile long gcs;
    private final List<double[]> rows = new ArrayList<>();            // t, requests, rss, heapAfterGc, javacpp

    private ModelSoak(Path out) throws IOException {
        this.out = Files.createDirectories(out);
        this.csv = Files.newBufferedWriter(out.resolve("samples.csv"), StandardCharsets.UTF_8);
        csv.write("t_s,trigger,generations,answers,rss_mb,peak_rss_mb,heap_used_mb,heap_committed_mb,heap_after_gc_mb,"
                + "javacpp_mb,gc_count\n");
        csv.flush();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) heapPools.add(p.getName());
        // The heap in use right after each collection: what a leak on the heap makes grow (the used heap between
        // collections is a saw tooth).
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (!(gc instanceof NotificationEmitter emitter)) continue;
            emitter.addNotificationListener((n, handback) -> {
                if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) return;
                GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                long used = 0;
                for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                    if (heapPools.contains(e.getKey())) used += e.getValue().getUsed();
                }
                heapAfterGcMb = used / 1048576.0;
                gcs++;
            }, null, null);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = ProcessMemory.options(args, USAGE);
        Path model = Path.of(o.getOrDefault("model", "models/latte-emoji"));
        int generations = Integer.parseInt(o.getOrDefault("generations", "10000"));
        int answers = Integer.parseInt(o.getOrDefault("answers", "10000"));
        int batch = Integer.parseInt(o.getOrDefault("batch", "8"));
        int steps = Integer.parseInt(o.getOrDefault("steps", "20"));
        long warmup = Long.parseLong(o.getOrDefault("warmup", Long.toString((generations + answers) / 10)));
        double sampleS = Double.parseDouble(o.getOrDefault("sample-s", "2"));
        int sampleEvery = Integer.parseInt(o.getOrDefault("sample-every", "400"));
        Path images = o.containsKey("images") ? Path.of(o.get("images")) : null;
        ModelSoak soak = new ModelSoak(Path.of(o.getOrDefault("out", "target/soak/model")));
        soak.run(model, generations, answers, batch, steps, images, warmup, sampleS, sampleEvery, o);
    }

    private void run(Path modelDir, int totalGenerations, int totalAnswers, int batch, int steps, Path imageDir, long warmup,
                     double sampleS, int sampleEvery, Map<String, String> settings) throws Exception {
        sample("start");
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "soak-sampler");
            t.setDaemon(true);
            return t;
        });
        long loadStart = System.nanoTime();
        Map<String, Object> summary = new LinkedHashMap<>();
        try (LatteFlow flow = LatteFlow.load(modelDir)) {
            double loadS = (System.nanoTime() - loadStart) / 1e9;
            List<BufferedImage> real = realImages(flow, imageDir);
            double[] afterLoad = sample("loaded");
            timer.scheduleAtFixedRate(() -> {
                try {
                    sample("time");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, (long) (sampleS * 1000), (long) (sampleS * 1000), TimeUnit.MILLISECONDS);
            log("model %s loaded in %.1f s; %d real images; %d generations and %d answers in batches of %d, %d steps",
                    modelDir, loadS, real.size(), totalGenerations, totalAnswers, batch, steps);

            List<String> captions = StreamingDemo.builtIn(StreamingDemo.BUILT_IN.size() * 2);
            Map<String, Integer> answerCounts = new TreeMap<>();
            long pngBytes = 0, nextSample = sampleEvery, round = 0;
            double[] warmupEnd = null;
            double genSeconds = 0, answerSeconds = 0;
            while (generations < totalGenerations || answers < totalAnswers) {
                List<BufferedImage> drawn = new ArrayList<>();
                if (generations < totalGenerations) {
                    int n = (int) Math.min(batch, totalGenerations - generations);
                    List<GenerationRequest> requests = new ArrayList<>(n);
                    for (int b = 0; b < n; b++) {
                        long i = generations + b;
                        requests.add(GenerationRequest.of(captions.get((int) (i % captions.size()))).withSteps(steps).withSeed(i));
                    }
                    long t = System.nanoTime();
                    for (GeneratedImage g : flow.generate(requests)) {
                        pngBytes += g.png().length;                     // what a user saving the images does
                        drawn.add(flow.readableImage(g.image()));
                    }
                    genSeconds += (System.nanoTime() - t) / 1e9;
                    generations += n;
                }
                if (answers < totalAnswers) {
                    int n = (int) Math.min(batch, totalAnswers - answers);
                    List<VqaRequest> questions = new ArrayList<>(n);
                    for (int b = 0; b < n; b++) {
                        long i = answers + b;
                        boolean aboutReal = drawn.isEmpty() || (!real.isEmpty() && i % 2 == 1);
                        BufferedImage image = aboutReal ? real.get((int) ((i / 2) % real.size())) : drawn.get(b % drawn.size());
                        questions.add(VqaRequest.of(image, QUESTIONS.get((int) ((i / 2) % QUESTIONS.size()))));
                    }
                    long t = System.nanoTime();
                    for (String a : flow.answer(questions)) answerCounts.merge(a, 1, Integer::sum);
                    answerSeconds += (System.nanoTime() - t) / 1e9;
                    answers += n;
                }
                round++;
                long done = generations + answers;
                if (done >= nextSample) {
                    double[] s = sample("requests");
                    if (warmupEnd == null && done >= warmup) warmupEnd = s;
                    nextSample += sampleEvery;
                }
                if (round % 50 == 0) {
                    log("%d generations, %d answers; rss %.0f MB, heap after GC %.0f MB, javacpp %.0f MB", generations, answers,
                            ProcessMemory.rssMb(ProcessHandle.current().pid()), heapAfterGcMb, Pointer.totalBytes() / 1048576.0);
                }
            }
            timer.shutdownNow();
            double[] end = sample("end");
            if (warmupEnd == null) warmupEnd = end;
            double seconds = (System.nanoTime() - start) / 1e9;

            summary.put("model", modelDir.toString());
            summary.put("settings", settings);
            summary.put("generations", generations);
            summary.put("answers", answers);
            summary.put("batch", batch);
            summary.put("steps", steps);
            summary.put("real_images", real.size());
            summary.put("seconds", round1(seconds));
            summary.put("load_s", round1(loadS));
            summary.put("generate_s", round1(genSeconds));
            summary.put("answer_s", round1(answerSeconds));
            summary.put("s_per_image", round4(genSeconds / Math.max(1, generations)));
            summary.put("s_per_answer", round4(answerSeconds / Math.max(1, answers)));
            summary.put("png_bytes", pngBytes);
            summary.put("distinct_answers", answerCounts.size());
            summary.put("warmup_requests", warmup);
            summary.put("rss_mb_after_load", round1(afterLoad[2]));
            summary.put("rss_mb_warmup_end", round1(warmupEnd[2]));
            summary.put("rss_mb_end", round1(end[2]));
            double peak = 0;
            synchronized (rows) {
                for (double[] r : rows) peak = Math.max(peak, r[2]);
            }
            summary.put("rss_mb_peak_sampled", round1(peak));
            summary.put("rss_mb_peak_vmhwm", round1(ProcessMemory.peakMb(ProcessHandle.current().pid())));
            summary.put("heap_after_gc_mb_warmup_end", round1(warmupEnd[3]));
            summary.put("heap_after_gc_mb_end", round1(end[3]));
            summary.put("javacpp_mb_warmup_end", round1(warmupEnd[4]));
            summary.put("javacpp_mb_end", round1(end[4]));
            // Slopes after warm-up, per 1,000 requests (generations + answers), from every sample after it.
            List<double[]> after = new ArrayList<>();
            synchronized (rows) {
                for (double[] r : rows) if (r[1] >= warmupEnd[1]) after.add(r);
            }
            double[] x = after.stream().mapToDouble(r -> r[1] / 1000).toArray();
            summary.put("samples_after_warmup", after.size());
            summary.put("rss_mb_per_1000_requests", round4(ProcessMemory.slope(x, after.stream().mapToDouble(r -> r[2]).toArray())));
            summary.put("heap_after_gc_mb_per_1000_requests", round4(ProcessMemory.slope(x, after.stream().mapToDouble(r -> r[3]).toArray())));
            summary.put("javacpp_mb_per_1000_requests", round4(ProcessMemory.slope(x, after.stream().mapToDouble(r -> r[4]).toArray())));
            double[] minutes = after.stream().mapToDouble(r -> r[0] / 60).toArray();
            summary.put("rss_mb_per_minute", round4(ProcessMemory.slope(minutes, after.stream().mapToDouble(r -> r[2]).toArray())));
            Map<String, Integer> top = new LinkedHashMap<>();
            answerCounts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(5).forEach(e -> top.put(e.getKey(), e.getValue()));
            summary.put("most_frequent_answers", top);
        } finally {
            timer.shutdownNow();
        }
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(summary);
        Files.writeString(out.resolve("summary.json"), json + "\n");
        csv.close();
        System.out.println(json);
    }

    /** The real PNGs to ask about (size-checked like every front door), as the model reads them; sorted by name. */
    private static List<BufferedImage> realImages(LatteFlow flow, Path dir) throws IOException {
        List<BufferedImage> out = new ArrayList<>();
        if (dir == null) return out;
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".png")).sorted().toList();
        }
        for (int i = 0; i < files.size() && out.size() < 512; i += Math.max(1, files.size() / 512)) {
            try {
                out.add(flow.readableImage(ImageBytes.decode(Files.readAllBytes(files.get(i)), 4096L * 4096)));
            } catch (ImageBytes.BadImage e) {
                log("skipping %s: %s", files.get(i), e.getMessage());
            }
        }
        return out;
    }

    /** One row of samples.csv; returns {t, requests, rss, heapAfterGc, javacpp}. */
    private synchronized double[] sample(String trigger) throws IOException {
        long pid = ProcessHandle.current().pid();
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        double t = (System.nanoTime() - start) / 1e9;
        long g = generations, a = answers;
        double rss = ProcessMemory.rssMb(pid), javacpp = Pointer.totalBytes() / 1048576.0;
        csv.write(String.format(java.util.Locale.ROOT, "%.2f,%s,%d,%d,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%d%n", t, trigger, g, a, rss,
                ProcessMemory.peakMb(pid), heap.getUsed() / 1048576.0, heap.getCommitted() / 1048576.0, heapAfterGcMb, javacpp, gcs));
        csv.flush();
        double[] row = {t, g + a, rss, heapAfterGcMb, javacpp};
        synchronized (rows) {
            rows.add(row);
        }
        return row;
    }

    private static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static double round4(double v) {
        return Double.isNaN(v) ? v : Math.round(v * 10000) / 10000.0;
    }

    static void log(String format, Object... args) {
        System.err.printf("[%tT] %s%n", System.currentTimeMillis(), String.format(java.util.Locale.ROOT, format, args));
    }
}
