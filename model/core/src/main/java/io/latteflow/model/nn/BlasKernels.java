package io.latteflow.model.nn;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Which OpenBLAS kernels the matmuls run on, chosen in-process before ND4J loads OpenBLAS.
 *
 * <p>ND4J 1.0.0-M2.1 bundles OpenBLAS 0.3.19, which does not know recent CPUs and falls back to old kernels without
 * a word (SSE3 "Prescott" on a Xeon of family 6 model 207, "Barcelona" on an AMD EPYC of family 26); on the latter
 * the bench preset's sampling was 1.8x slower (0.244 against 0.135 s per image with SKYLAKEX, issue 18). OpenBLAS
 * reads {@code OPENBLAS_CORETYPE} from the C environment once, when it loads. So {@link #choose()}, run by
 * {@code LatteFlow}'s class initialiser before any model array exists, sets it with the C library's {@code setenv}
 * from the CPU's flags: every JVM that uses the model (the CLI, tests, a Flink TaskManager, a notebook kernel) gets
 * the fast kernels with no flag to remember. A value the user set always wins; {@code -Dlatte.openblas.coretype=NAME}
 * chooses another core, {@code =native} leaves OpenBLAS's own detection. Where OpenBLAS was already loaded (the
 * application used ND4J first), {@link #logOnce()} says what to set instead.
 *
 * <pre>{@code
 * String core = BlasKernels.forFlags(Set.of("avx2", "fma"));   // "HASWELL"
 * }</pre>
 */
public final class BlasKernels {
    private static final Logger LOG = LoggerFactory.getLogger(BlasKernels.class);
    private static final String VAR = "OPENBLAS_CORETYPE", PROPERTY = "latte.openblas.coretype";
    private static final AtomicBoolean LOGGED = new AtomicBoolean();
    private static final int RTLD_LAZY = 0x1, RTLD_NOLOAD = 0x4;                // glibc's dlfcn.h
    /** What {@link #choose()} did, for the log line: a sentence fragment. */
    private static volatile String how = "not chosen (BlasKernels.choose() did not run)";

    private BlasKernels() {
    }

    /** The OpenBLAS core type for a CPU with these flags (as /proc/cpuinfo names them), or null to leave OpenBLAS's own. */
    public static String forFlags(Set<String> flags) {
        if (flags.containsAll(Set.of("avx512f", "avx512bw", "avx512vl"))) return "SKYLAKEX";
        if (flags.containsAll(Set.of("avx2", "fma"))) return "HASWELL";
        return null;
    }

    /** Sets {@code OPENBLAS_CORETYPE} for this process when nobody did and OpenBLAS is not loaded yet. Idempotent. */
    public static synchronized void choose() {
        String set = System.getenv(VAR), asked = System.getProperty(PROPERTY, "auto").trim();
        if (set != null && !set.isBlank()) {
            how = "set by the environment";
            return;
        }
        if (asked.equalsIgnoreCase("native")) {
            how = "OpenBLAS's own choice (-D" + PROPERTY + "=native)";
            return;
        }
        String core = asked.equalsIgnoreCase("auto") ? forFlags(cpuFlags()) : asked.toUpperCase();
        if (core == null) {
            how = "OpenBLAS's own choice (no AVX2 on this CPU)";
            return;
        }
        if (loadedOpenBlas().isPresent()) {
            how = "too late to choose " + core + ": OpenBLAS was loaded before LaTtE-Flow";
            return;
        }
        try {
            if (Native.load("c", LibC.class).setenv(VAR, core, 0) != 0) throw new IllegalStateException("setenv failed");
            how = "chosen by LaTtE-Flow from the CPU's flags" + (asked.equalsIgnoreCase("auto") ? "" : " (-D" + PROPERTY + ")") + ": " + core;
        } catch (RuntimeException | LinkageError e) {
            how = "could not set " + VAR + "=" + core + " (" + e.getMessage() + ")";
        }
    }

    /**
     * The kernels OpenBLAS runs (its {@code openblas_get_corename}), once it is loaded; empty before or if unknown.
     * The loaded library is looked up with RTLD_NOLOAD and without RTLD_GLOBAL (JNA's default): promoting it to the
     * global scope let symbols of ND4J's second OpenBLAS (libopenblas_nolapack) bind to this one, and with two OpenMP
     * threads OpenBLAS then aborted the JVM ("Bad memory unallocation", issue 18).
     */
    public static Optional<String> coreName() {
        return loadedOpenBlas().flatMap(lib -> {
            try {
                NativeLibrary loaded = NativeLibrary.getInstance(lib.toString(), Map.of(Library.OPTION_OPEN_FLAGS, RTLD_LAZY | RTLD_NOLOAD));
                return Optional.ofNullable(loaded.getFunction("openblas_get_corename").invokeString(new Object[0], false));
            } catch (RuntimeException | LinkageError e) {
                return Optional.empty();
            }
        });
    }

    /** Says once which kernels run and, when a faster choice came too late, what to set. */
    public static void logOnce() {
        if (!LOGGED.compareAndSet(false, true)) return;
        String core = coreName().orElse("unknown");
        if (how.startsWith("too late")) {
            LOG.warn("OpenBLAS kernels: {}; {}. Set {}={} in the environment before the JVM starts.", core, how,
                    VAR, forFlags(cpuFlags()));
        } else {
            LOG.info("OpenBLAS kernels: {} ({})", core, how);
        }
    }

    /** The OpenBLAS library mapped into this process, from /proc/self/maps (Linux). */
    private static Optional<Path> loadedOpenBlas() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.map(l -> l.substring(l.lastIndexOf(' ') + 1)).filter(p -> p.contains("libopenblas")).findFirst().map(Path::of);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
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

    private interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }
}
