package org.esl4j.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Process measurements: percentiles, resident memory, heap, bytes allocated by all threads. */
final class Measure {
    private Measure() {
    }

    /** The {@code q} quantile (0..1) of the values by nearest rank; NaN when there are none. */
    static double quantile(double[] values, double q) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank))];
    }

    static double[] toArray(List<Double> values) {
        double[] array = new double[values.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = values.get(i);
        }
        return array;
    }

    /** Resident set size of this process in bytes (Linux {@code /proc/self/status}; -1 elsewhere). */
    static long residentBytes() {
        return statusBytes("VmRSS:");
    }

    /** The highest resident set size of this process so far, in bytes (-1 when unknown). */
    static long peakResidentBytes() {
        return statusBytes("VmHWM:");
    }

    private static long statusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException unavailable) {
            // not Linux
        }
        return -1;
    }

    /**
     * CPU time used so far by this whole process (every Java and native thread, the engine's
     * included), in nanoseconds; -1 where the JVM does not tell. On a shared machine, CPU time per
     * event moves far less with the load than events per second do.
     */
    static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
        }
        return -1;
    }

    /** Heap in use after a full collection. */
    static long heapAfterGc() {
        System.gc();
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return heap.getUsed();
    }

    /** Bytes allocated so far by each live thread, by thread id. */
    static Map<Long, Long> allocatedByThread() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] ids = threads.getAllThreadIds();
        long[] bytes = threads.getThreadAllocatedBytes(ids);
        Map<Long, Long> result = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (bytes[i] >= 0) {
                result.put(ids[i], bytes[i]);
            }
        }
        return result;
    }

    /** Bytes allocated since {@code before} by threads alive now (threads that ended are missed). */
    static long allocatedSince(Map<Long, Long> before) {
        long total = 0;
        for (Map.Entry<Long, Long> now : allocatedByThread().entrySet()) {
            Long then = before.get(now.getKey());
            total += now.getValue() - (then == null ? 0 : then);
        }
        return total;
    }

    /** A machine-readable result line for the orchestrator: {@code RESULT key=value ...}. */
    static void report(Object... keysAndValues) {
        line("RESULT", keysAndValues);
    }

    /** A machine-readable line {@code <kind> key=value ...}; values must not contain spaces. */
    static void line(String kind, Object... keysAndValues) {
        StringBuilder line = new StringBuilder(kind);
        for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
            Object value = keysAndValues[i + 1];
            String text = value instanceof Double ? String.format(Locale.ROOT, "%.3f", (Double) value) : String.valueOf(value);
            line.append(' ').append(keysAndValues[i]).append('=').append(text);
        }
        System.out.println(line);
    }
}
