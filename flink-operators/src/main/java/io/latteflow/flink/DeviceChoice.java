package io.latteflow.flink;

import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Comparator;
import java.util.Optional;
import java.util.Set;

/**
 * Maps the GPU that Flink gave this TaskManager (external resource {@code gpu}, as configured with
 * {@code external-resources: gpu} and Flink's GPU driver) to the ND4J device the model's thread uses. With no
 * GPU resource, or ND4J's CPU backend, nothing changes.
 */
final class DeviceChoice {
    static final String RESOURCE = "gpu";
    private static final Logger LOG = LoggerFactory.getLogger(DeviceChoice.class);

    private DeviceChoice() {
    }

    /** The lowest GPU index among the resources Flink assigned, if any. */
    static Optional<Integer> deviceIndex(Set<ExternalResourceInfo> gpus) {
        return gpus.stream()
                .map(g -> g.getProperty("index"))
                .flatMap(Optional::stream)
                .map(String::trim)
                .filter(s -> s.matches("\\d+"))
                .map(Integer::parseInt)
                .min(Comparator.naturalOrder());
    }

    static void apply(Set<ExternalResourceInfo> gpus) {
        Optional<Integer> index = deviceIndex(gpus);
        if (index.isEmpty()) return;
        if (Nd4j.getEnvironment().isCPU()) {
            LOG.warn("Flink assigned GPU {} but ND4J runs its CPU backend (build with -Pcuda); using the CPU", index.get());
            return;
        }
        Nd4j.getAffinityManager().unsafeSetDevice(index.get());
        LOG.info("LaTtE-Flow model thread uses GPU {}", index.get());
    }
}
