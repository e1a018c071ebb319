// Issue 20: time and resident memory of DcAeCodec encoding and decoding one image, beside the PyTorch reference
// (bench/dcae_ref.py time) on the same image; prints one JSON object. bench/dcae.sh runs both sides:
//   target/bench-venv/bin/python bench/dcae_ref.py full --out target/dcae-f32c32          # random f32c32, diffusers layout
//   target/bench-venv/bin/python bench/dcae_ref.py time --model target/dcae-f32c32 --save /tmp/ref.safetensors
//   java -Xmx4g -cp examples/target/latte.jar bench/DcAeBench.java --model target/dcae-f32c32 --ref /tmp/ref.safetensors
// (plus the JVM flags of the `latte` launcher: -Dorg.bytedeco.javacpp.cachedir=..., --add-opens=java.base/java.nio=ALL-UNNAMED).
// --ref: the reference's image, tokens and decoder output; ours are compared with them (max_abs_diff).
import io.latteflow.model.io.SafeTensors;
import io.latteflow.model.latent.DcAeCodec;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class DcAeBench {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        Path model = Path.of(a.getOrDefault("model", "target/dcae-f32c32"));
        int size = Integer.parseInt(a.getOrDefault("size", "256")), repeats = Integer.parseInt(a.getOrDefault("repeats", "3"));
        long rss0 = status("VmRSS");
        long t0 = System.nanoTime();
        DcAeCodec codec = DcAeCodec.load(model, size);
        double load = (System.nanoTime() - t0) / 1e9;
        long rssLoaded = status("VmRSS");
        INDArray image, refTokens = null, refDecoded = null;
        if (a.containsKey("ref")) {
            try (SafeTensors st = SafeTensors.open(Path.of(a.get("ref")))) {
                image = st.get("images");
                refTokens = st.get("tokens");
                refDecoded = st.get("decoded");
            }
        } else {
            Nd4j.getRandom().setSeed(0);
            image = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 3, size, size);
        }
        // CPU time of this thread beside wall time: with one OpenMP/OpenBLAS thread the ops run on the calling thread, so
        // CPU time is what a shared machine's other processes change least
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        List<Double> enc = new ArrayList<>(), dec = new ArrayList<>(), encCpu = new ArrayList<>(), decCpu = new ArrayList<>();
        INDArray tokens = null, decoded = null;
        long peakEncode = 0;
        for (int r = 0; r < repeats; r++) {
            t0 = System.nanoTime();
            long c0 = cpu.getCurrentThreadCpuTime();
            tokens = codec.encode(image);
            enc.add((System.nanoTime() - t0) / 1e9);
            encCpu.add((cpu.getCurrentThreadCpuTime() - c0) / 1e9);
            peakEncode = Math.max(peakEncode, status("VmHWM"));
            INDArray z = (refTokens != null ? refTokens : tokens);
            int side = codec.latentSide();
            INDArray latents = z.permute(0, 2, 1).dup('c').reshape('c', 1, codec.dim(), side, side).div(codec.config().scalingFactor());
            t0 = System.nanoTime();
            c0 = cpu.getCurrentThreadCpuTime();
            decoded = codec.decodeLatents(latents);
            dec.add((System.nanoTime() - t0) / 1e9);
            decCpu.add((cpu.getCurrentThreadCpuTime() - c0) / 1e9);
        }
        StringBuilder json = new StringBuilder("{\"side\": \"java\", \"layout\": \"").append(codec.layout().name().toLowerCase())
                .append("\", \"size\": ").append(size).append(", \"latent_shape\": [1, ").append(codec.dim()).append(", ")
                .append(codec.latentSide()).append(", ").append(codec.latentSide()).append("], \"load_s\": ").append(round(load))
                .append(", \"encode_s\": ").append(list(enc)).append(", \"decode_s\": ").append(list(dec))
                .append(", \"encode_cpu_s\": ").append(list(encCpu)).append(", \"decode_cpu_s\": ").append(list(decCpu))
                .append(", \"rss_before_load_mb\": ").append(rss0 / 1024).append(", \"rss_after_load_mb\": ").append(rssLoaded / 1024)
                .append(", \"peak_rss_after_encode_mb\": ").append(peakEncode / 1024).append(", \"peak_rss_mb\": ").append(status("VmHWM") / 1024)
                .append(", \"openblas_core\": \"").append(io.latteflow.model.nn.BlasKernels.coreName().orElse("unknown")).append('"')
                .append(", \"omp_threads\": \"").append(System.getenv().getOrDefault("OMP_NUM_THREADS", "unset")).append('"');
        if (refTokens != null) {
            json.append(", \"max_abs_diff_tokens\": ").append(refTokens.sub(tokens).amaxNumber().doubleValue())
                    .append(", \"max_abs_diff_decoded\": ").append(refDecoded.sub(decoded).amaxNumber().doubleValue())
                    .append(", \"max_abs_decoded\": ").append(refDecoded.amaxNumber().doubleValue());
        }
        System.out.println(json.append('}'));
    }

    /** A /proc/self/status field in kB. */
    static long status(String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    static String round(double x) {
        return String.format(java.util.Locale.ROOT, "%.3f", x);
    }

    static String list(List<Double> xs) {
        return xs.stream().map(DcAeBench::round).collect(java.util.stream.Collectors.joining(", ", "[", "]"));
    }
}
