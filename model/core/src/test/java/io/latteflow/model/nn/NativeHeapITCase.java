package io.latteflow.model.nn;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Native memory that ND4J frees goes back to the system. A child JVM allocates and frees, 60 times over, 40 arrays of
 * 1 to 4 MB (what a new plan per input shape does), then reports its resident size: with glibc's rising mmap
 * threshold the freed arrays stay in the heap arenas; with {@link NativeHeap} they are unmapped.
 */
class NativeHeapITCase {
    /** The child: {@code Churn configure|default}; prints resident MB. */
    public static final class Churn {
        public static void main(String[] args) throws Exception {
            if (args[0].equals("configure")) NativeHeap.configure();
            boolean trim = args[0].equals("trim");
            for (int round = 0; round < 60; round++) {
                List<org.nd4j.linalg.api.ndarray.INDArray> arrays = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    arrays.add(org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 256 * (1 + (i + round) % 4), 1024).assign(1));
                }
                for (var a : arrays) a.close();
            }
            if (trim && !NativeHeap.trim()) System.out.println("malloc_trim returned nothing");
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) System.out.println("RSS_MB " + Long.parseLong(line.replaceAll("\\D", "")) / 1024);
            }
        }
    }

    private static long rss(String mode) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), Churn.class.getName(), mode);
        pb.environment().remove("MALLOC_MMAP_THRESHOLD_");
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor() == 0, out);
        return out.lines().filter(l -> l.startsWith("RSS_MB ")).mapToLong(l -> Long.parseLong(l.substring(7))).findFirst()
                .orElseThrow(() -> new AssertionError("no RSS line in " + out));
    }

    @Test
    void freedArraysLeaveTheProcessWithTheThresholdFixedOrATrim() throws Exception {
        long fixed = rss("configure"), rising = rss("default"), trimmed = rss("trim");
        assertTrue(fixed + 150 < rising, "resident MB after the churn: " + fixed + " with NativeHeap, " + rising + " without");
        assertTrue(trimmed + 150 < rising, "resident MB after the churn: " + trimmed + " after malloc_trim, " + rising + " without");
    }
}
