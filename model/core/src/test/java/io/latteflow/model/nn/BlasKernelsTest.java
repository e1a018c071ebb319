package io.latteflow.model.nn;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The kernels chosen for a CPU follow its flags. */
class BlasKernelsTest {
    @Test
    void avx512CpusGetSkylakeXAvx2CpusHaswellAndOthersOpenBlasesOwnChoice() {
        assertEquals("SKYLAKEX", BlasKernels.forFlags(Set.of("sse3", "avx2", "fma", "avx512f", "avx512bw", "avx512vl")));
        assertEquals("HASWELL", BlasKernels.forFlags(Set.of("sse3", "avx2", "fma", "avx512f")));   // AVX-512 without BW/VL
        assertEquals("HASWELL", BlasKernels.forFlags(Set.of("avx2", "fma")));
        assertNull(BlasKernels.forFlags(Set.of("sse3", "avx")));
    }
}
