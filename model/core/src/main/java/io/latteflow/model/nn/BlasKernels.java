package io.latteflow.model.nn;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Which OpenBLAS kernels the matmuls run on. ND4J 1.0.0-M2.1 bundles OpenBLAS 0.3.19, which does not know recent
 * CPUs and falls back to old kernels without a word (SSE3 "Prescott" on a Xeon of family 6 model 207, "Barcelona" on an
 * AMD EPYC of family 26); on the latter the bench preset's sampling was 1.8x slower (0.244 against 0.135 s per image
 * with SKYLAKEX, issue 18). OpenBLAS reads
 * {@code OPENBLAS_CORETYPE} only when it loads, so a library can only say what to set: the {@code latte} launcher sets
 * it from the CPU's flags, and {@link #logOnce()} tells everyone else, once per JVM.
 *
 * <pre>{@code
 * String core = BlasKernels.forFlags(Set.of("avx2", "fma"));   // "HASWELL"
 * }</pre>
 */
public final class BlasKernels {
    private static final Logger LOG = LoggerFactory.getLogger(BlasKernels.class);
    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    private BlasKernels() {
    }

    /** The OpenBLAS core type for a CPU with these flags (as /proc/cpuinfo names them), or null to leave OpenBLAS's own. */
    public static String forFlags(Set<String> flags) {
        if (flags.containsAll(Set.of("avx512f", "avx512bw", "avx512vl"))) return "SKYLAKEX";
        if (flags.containsAll(Set.of("avx2", "fma"))) return "HASWELL";
        return null;
    }

    /** Says once which kernels run and, when none was chosen on a CPU that has faster ones, how to choose them. */
    public static void logOnce() {
        if (!LOGGED.compareAndSet(false, true)) return;
        String set = System.getenv("OPENBLAS_CORETYPE");
        if (set != null && !set.isBlank()) {
            LOG.info("OpenBLAS kernels: OPENBLAS_CORETYPE={}", set);
            return;
        }
        String best = forFlags(cpuFlags());
        if (best != null) {
            LOG.warn("OPENBLAS_CORETYPE is not set: ND4J's OpenBLAS 0.3.19 may not recognise this CPU and run old "
                    + "SSE-era kernels (1.8x slower sampling measured on a recent EPYC). This CPU supports {}: set "
                    + "OPENBLAS_CORETYPE={} in the environment before the JVM starts (the latte launcher does).", best, best);
        }
    }

    private static Set<String> cpuFlags() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Set.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))).orElse(Set.of());
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
    }
}
