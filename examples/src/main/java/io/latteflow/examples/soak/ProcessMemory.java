package io.latteflow.examples.soak;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of a process as Linux reports it in {@code /proc/PID/status} (what an operator provisions for). */
final class ProcessMemory {
    private ProcessMemory() {
    }

    /** VmRSS of the process in MB, or NaN when it is gone (or not Linux). */
    static double rssMb(long pid) {
        return field(pid, "VmRSS:");
    }

    /** VmHWM (the peak resident size) of the process in MB, or NaN. */
    static double peakMb(long pid) {
        return field(pid, "VmHWM:");
    }

    /**
     * Resident size in MB of the process's Java heap: the mapping whose size is its {@code -Xmx} (read from its command
     * line; JVMs reserve the heap as one mapping of that size), or NaN when there is none. Flink starts TaskManagers
     * with {@code -Xms} equal to {@code -Xmx}: the whole heap is committed at once but becomes resident only as the
     * collector first touches each region, so a TaskManager's VmRSS climbs towards {@code -Xmx} without any leak; VmRSS
     * less this is what native code (ND4J, glibc's arenas, the JIT) holds.
     */
    static double heapResidentMb(long pid) {
        try {
            long xmxKb = -1;
            for (String arg : Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).split("\0")) {
                if (arg.startsWith("-Xmx")) xmxKb = bytes(arg.substring(4)) / 1024;
            }
            if (xmxKb <= 0) return Double.NaN;
            boolean inHeap = false;
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps"))) {
                if (line.startsWith("Size:")) inHeap = kb(line) == xmxKb;
                else if (inHeap && line.startsWith("Rss:")) return kb(line) / 1024.0;
            }
        } catch (IOException | RuntimeException gone) {
            // the process ended, or its command line names no -Xmx
        }
        return Double.NaN;
    }

    private static long kb(String smapsLine) {
        return Long.parseLong(smapsLine.substring(smapsLine.indexOf(':') + 1).trim().split("\\s+")[0]);
    }

    /** A JVM size option's value ({@code 805306368}, {@code 768m}, {@code 3g}) in bytes. */
    private static long bytes(String size) {
        char unit = Character.toLowerCase(size.charAt(size.length() - 1));
        int shift = switch (unit) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            default -> 0;
        };
        return Long.parseLong(shift == 0 ? size : size.substring(0, size.length() - 1)) << shift;
    }

    private static double field(long pid, String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) / 1024.0;               // kB
                }
            }
        } catch (IOException | RuntimeException gone) {
            // the process ended between two samples
        }
        return Double.NaN;
    }

    /** Least-squares slope of y against x (NaN with fewer than two distinct x). */
    static double slope(double[] x, double[] y) {
        int n = 0;
        double sx = 0, sy = 0;
        for (int i = 0; i < x.length; i++) {
            if (Double.isNaN(x[i]) || Double.isNaN(y[i])) continue;
            n++;
            sx += x[i];
            sy += y[i];
        }
        if (n < 2) return Double.NaN;
        double mx = sx / n, my = sy / n, sxy = 0, sxx = 0;
        for (int i = 0; i < x.length; i++) {
            if (Double.isNaN(x[i]) || Double.isNaN(y[i])) continue;
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        return sxx == 0 ? Double.NaN : sxy / sxx;
    }

    /** {@code --key value} pairs; a key given twice keeps the last value. */
    static java.util.Map<String, String> options(String[] args, String usage) {
        java.util.Map<String, String> o = new java.util.LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("-h") || args[i].equals("--help")) {
                System.out.println(usage);
                System.exit(0);
            }
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                System.err.println("expected --option value, got '" + args[i] + "'\n" + usage);
                System.exit(2);
            }
            o.put(args[i].substring(2), args[++i]);
        }
        return o;
    }
}
