package io.latteflow.model.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graph run by threads that come and go (Flink task threads at every job and restart) keeps sessions only for live
 * ones. SameDiff's session runs what a {@link Plan} cannot, and everything under {@code -Dlatte.replay=false}.
 */
class FlatSessionTest {

    private static Map<String, INDArray> sameDiff(Net net, Map<String, INDArray> in, String out) {
        FlatSession.install(net.sd);
        return net.sd.output(in, out);
    }

    @Test
    void sessionsOfEndedThreadsAreDroppedWhenAnotherThreadRunsTheGraph() throws Exception {
        ParamStore p = new ParamStore(1);
        p.normal("w", 1.0, 16);
        Net net = new Net(p);
        SDVariable y = net.rmsNorm(net.input("x", -1, -1, 16), "w", 1e-6);
        INDArray x = Nd4j.randn(2, 3, 16);
        INDArray expected = sameDiff(net, Map.of("x", x), y.name()).get(y.name());

        for (int i = 0; i < 12; i++) {
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    assertEquals(expected, sameDiff(net, Map.of("x", x), y.name()).get(y.name()));
                } catch (Throwable e) {
                    failed.set(e);
                }
            });
            t.start();
            t.join();
            assertNull(failed.get());
        }
        // this thread's session and the last thread's (it had ended, but nobody ran the graph after it)
        assertTrue(net.sd.getSessions().size() <= 2, "sessions: " + net.sd.getSessions().size());
        assertTrue(net.sd.getSessions().containsKey(Thread.currentThread().getId()));
    }

    @Test
    void aLiveThreadKeepsItsSessionWhileOthersComeAndGo() throws Exception {
        ParamStore p = new ParamStore(2);
        p.normal("w", 1.0, 8);
        Net net = new Net(p);
        SDVariable y = net.rmsNorm(net.input("x", -1, -1, 8), "w", 1e-6);
        INDArray x = Nd4j.randn(1, 2, 8);
        CountDownLatch ran = new CountDownLatch(1), release = new CountDownLatch(1);
        Thread waiting = new Thread(() -> {
            sameDiff(net, Map.of("x", x), y.name());
            ran.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        waiting.start();
        ran.await();
        for (int i = 0; i < 3; i++) {
            Thread t = new Thread(() -> sameDiff(net, Map.of("x", x), y.name()));
            t.start();
            t.join();
        }
        assertTrue(net.sd.getSessions().containsKey(waiting.getId()), "the live thread's session stays");
        release.countDown();
        waiting.join();
    }
}
