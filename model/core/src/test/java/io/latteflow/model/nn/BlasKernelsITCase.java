package io.latteflow.model.nn;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A JVM that uses the model gets the kernels its CPU supports without any flag; a user's OPENBLAS_CORETYPE wins; an
 * application that loaded ND4J first is told what to set. Each case is a fresh JVM, as OpenBLAS chooses once per process.
 */
class BlasKernelsITCase {
    /** OpenBLAS's name for each core type BlasKernels chooses. */
    private static final Map<String, String> CORE_NAMES = Map.of("SKYLAKEX", "SkylakeX", "HASWELL", "Haswell");

    /** Run in the child JVM: creates a model (optionally touching ND4J first) and prints the kernels OpenBLAS runs. */
    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("nd4j-first")) Nd4j.create(2, 2);
        try (LatteFlow flow = LatteFlow.create(LatteConfig.tiny(), 1)) {
            System.out.println("CORE=" + BlasKernels.coreName().orElse("unknown"));
            for (int i = 0; i < 3; i++) flow.generate(io.latteflow.model.GenerationRequest.of("red apple").withSteps(8));
            System.out.println("GENERATED");
        }
    }

    @Test
    void aModelJvmRunsTheKernelsItsCpuSupportsWithNoFlagSet() throws Exception {
        String best = BlasKernels.forFlags(cpuFlags());
        assumeTrue(best != null, "this CPU has no AVX2: OpenBLAS's own choice stands");
        String out = child(null, List.of());
        assertTrue(out.contains("CORE=" + CORE_NAMES.get(best) + "\n"), out);
        assertTrue(out.contains("chosen by LaTtE-Flow from the CPU's flags: " + best), out);
    }

    @Test
    void sayingWhichKernelsRunLeavesOpenBlasWorkingWithTwoOpenMpThreads() throws Exception {
        // Looking the core name up with RTLD_GLOBAL made OpenBLAS abort the JVM at the first generate with
        // OMP_NUM_THREADS=2 ("Bad memory unallocation"), the two OpenBLAS libraries ND4J loads having been mixed up.
        String out = child("HASWELL", List.of(), "2");
        assertTrue(out.contains("CORE=Haswell\n") && out.contains("GENERATED\n"), out);
    }

    @Test
    void aCoreTypeTheUserSetWins() throws Exception {
        String out = child("HASWELL", List.of());
        assertTrue(out.contains("CORE=Haswell\n"), out);
        assertTrue(out.contains("(set by the environment)"), out);
    }

    @Test
    void anApplicationThatLoadedNd4jFirstIsToldWhatToSet() throws Exception {
        String best = BlasKernels.forFlags(cpuFlags());
        assumeTrue(best != null, "this CPU has no AVX2: there is nothing to tell");
        String out = child(null, List.of("nd4j-first"));
        assertTrue(out.contains("too late to choose " + best + ": OpenBLAS was loaded before LaTtE-Flow. Set OPENBLAS_CORETYPE=" + best), out);
    }

    private static String child(String coreType, List<String> args) throws IOException, InterruptedException {
        return child(coreType, args, "1");
    }

    private static String child(String coreType, List<String> args, String ompThreads) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Doffline=true", "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir", "target/javacpp"),
                BlasKernelsITCase.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("OPENBLAS_CORETYPE");
        pb.environment().put("OMP_NUM_THREADS", ompThreads);
        if (coreType != null) pb.environment().put("OPENBLAS_CORETYPE", coreType);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private static Set<String> cpuFlags() throws IOException {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Set.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))).orElse(Set.of());
        }
    }
}
