package io.latteflow.model.train;

import io.latteflow.model.nn.FlatSession;
import io.latteflow.model.nn.Net;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** One forward and backward pass of a graph's scalar loss. */
final class Gradients {
    private static final Object QUIET = new Object();

    private Gradients() {
    }

    static OutAndGrad compute(Net net, Map<String, INDArray> inputs, String loss, Collection<String> wrt) {
        prepare(net, loss);
        FlatSession.install(net.sd);
        return net.sd.calculateGradientsAndOutputs(inputs, List.of(loss), wrt);
    }

    /**
     * Builds the backward graph once. SameDiff 1.0.0-M2.1 prints a line per differentiated op to stdout while doing
     * so; that would flood a user's console or notebook, so stdout is muted for the duration.
     */
    private static void prepare(Net net, String loss) {
        synchronized (QUIET) {
            if (net.sd.hasGradientFunction()) return;
            net.sd.setLossVariables(loss);
            PrintStream out = System.out;
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                net.sd.createGradFunction();
            } finally {
                System.setOut(out);
            }
        }
    }
}
