package io.latteflow.model.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A replayed graph gives SameDiff's results bit for bit, on new values, and never serves stale weights or outputs. */
class PlanTest {
    private static final int D = 16, HEADS = 4, KV = 2, DH = D / HEADS;

    /** One pre-norm attention + SwiGLU layer, with the shape ops, GQA, RoPE and masks the model's layers use. */
    private static Net layer(ParamStore p) {
        p.normal("ln1", 1.0, D);
        p.normal("ln2", 1.0, D);
        p.normal("q.weight", 0.2, D, D);
        p.normal("q.bias", 0.2, D);
        p.normal("k.weight", 0.2, KV * DH, D);
        p.normal("v.weight", 0.2, KV * DH, D);
        p.normal("o.weight", 0.2, D, D);
        p.normal("mlp.gate_proj.weight", 0.2, 24, D);
        p.normal("mlp.up_proj.weight", 0.2, 24, D);
        p.normal("mlp.down_proj.weight", 0.2, D, 24);
        Net net = new Net(p);
        SDVariable x = net.input("x", -1, -1, D);                                     // (batch, n, d)
        SDVariable cos = net.input("cos", -1, 1, -1, DH), sin = net.input("sin", -1, 1, -1, DH);
        SDVariable mask = net.input("mask", -1, 1, 1, -1);                             // (batch, 1, 1, n)
        SDVariable h = net.rmsNorm(x, "ln1", 1e-6);
        SDVariable q = net.rope(net.splitHeads(net.linear(h, "q", true), HEADS, DH), cos, sin, DH);
        SDVariable k = net.rope(net.splitHeads(net.linear(h, "k", false), KV, DH), cos, sin, DH);
        SDVariable v = net.splitHeads(net.linear(h, "v", false), KV, DH);
        SDVariable att = net.sd.nn.softmax(net.groupedLogits(q, k, KV, DH).add(mask), 3);
        SDVariable y = x.add(net.linear(net.mergeHeads(net.groupedAttend(att, v, KV), HEADS), "o", false));
        net.sd.identity("out", y.add(net.swiGlu(net.rmsNorm(y, "ln2", 1e-6), "mlp")));
        return net;
    }

    private static Map<String, INDArray> inputs(long seed, int batch, int n) {
        Nd4j.getRandom().setSeed(seed);
        INDArray mask = Nd4j.zeros(batch, 1, 1, n);
        mask.putScalar(new long[]{0, 0, 0, n - 1}, -1e9);
        return Map.of("x", Nd4j.randn(batch, n, D), "cos", Nd4j.rand(batch, 1, n, DH), "sin", Nd4j.rand(batch, 1, n, DH), "mask", mask);
    }

    private static INDArray sameDiff(Net net, Map<String, INDArray> in) {
        FlatSession.install(net.sd);
        return net.sd.output(in, "out").get("out");
    }

    @Test
    void aReplayEqualsSameDiffBitForBitOnNewValuesOfTheSameShapes() {
        Net net = layer(new ParamStore(1));
        Plan plan = Plan.build(net.sd, inputs(1, 3, 5), "out");
        assertEquals(sameDiff(net, inputs(1, 3, 5)), plan.results(inputs(1, 3, 5)).get("out"));
        for (long seed = 2; seed < 5; seed++) {
            Map<String, INDArray> in = inputs(seed, 3, 5);
            assertEquals(sameDiff(net, in), plan.run(in).get("out"), "seed " + seed);
        }
    }

    @Test
    void shapeAndConstantOpsRunOnceWhenThePlanIsMadeNotAtEveryRun() {
        Net net = layer(new ParamStore(2));
        Plan plan = Plan.build(net.sd, inputs(1, 2, 4), "out");
        int graphOps = net.sd.getOps().size();
        long shapeOps = net.sd.getOps().values().stream().filter(o -> o.getOp() instanceof org.nd4j.linalg.api.ops.impl.shape.Shape).count();
        // each shape read feeds a cast, a slice and the concats that make reshape targets; none of them is replayed
        assertTrue(plan.replayedOps() <= graphOps - 3 * shapeOps, plan.replayedOps() + " of " + graphOps + " ops replayed, " + shapeOps + " shape reads");
    }

    @Test
    void aReshapeOfAnArrayThePlanMadeIsAViewNotAnOpAtEveryRun() {
        Net net = new Net(new ParamStore(6));
        SDVariable x = net.input("x", -1, 6);
        SDVariable doubled = x.mul(2.0);                                            // the plan's own array
        net.sd.identity("out", net.sd.reshape(doubled, 3, -1).add(1.0).add(net.sd.reshape(x, 3, -1)));
        Map<String, INDArray> in = Map.of("x", Nd4j.rand(2, 6));
        Plan plan = Plan.build(net.sd, in, "out");
        // mul, add, add and the reshape of the placeholder (its array changes at every run); not the other reshape
        assertEquals(4, plan.replayedOps());
        Map<String, INDArray> next = Map.of("x", Nd4j.rand(2, 6));
        assertEquals(sameDiff(net, next), plan.run(next).get("out"));
    }

    @Test
    void resultsAreTheCallersAndTheNextRunLeavesThemBe() {
        Net net = layer(new ParamStore(3));
        Plan plan = Plan.build(net.sd, inputs(1, 2, 4), "out");
        INDArray first = plan.run(inputs(1, 2, 4)).get("out");
        INDArray kept = first.dup();
        plan.run(inputs(9, 2, 4));
        assertEquals(kept, first);
    }

    @Test
    void otherShapesAreRefusedAndNetMakesThemTheirOwnPlan() {
        Net net = layer(new ParamStore(4));
        Plan plan = Plan.build(net.sd, inputs(1, 2, 4), "out");
        assertFalse(plan.fits(inputs(1, 2, 6)));
        assertThrows(IllegalArgumentException.class, () -> plan.run(inputs(1, 2, 6)));
        for (int n : new int[]{4, 6, 4, 6, 7, 4}) {                       // first sightings, plans, replays, a new length
            Map<String, INDArray> in = inputs(n, 2, n);
            assertEquals(sameDiff(net, in), net.output(in, "out").get("out"), "n = " + n);
        }
    }

    @Test
    void aWeightGivenANewArrayIsReadByTheNextCallNotAStalePlan() {
        ParamStore p = new ParamStore(5);
        Net net = layer(p);
        Map<String, INDArray> in = inputs(1, 2, 4);
        for (int i = 0; i < 3; i++) net.output(in, "out");                 // the plan is made and replayed
        INDArray before = net.output(in, "out").get("out");
        net.sd.getVariable("o.weight").setArray(Nd4j.randn(D, D));
        INDArray after = net.output(in, "out").get("out");
        assertNotEquals(before, after);
        assertEquals(sameDiff(net, in), after);
    }

    @Test
    void runsAcrossTheContextPurgesStillEqualSameDiff() {
        Net net = layer(new ParamStore(7));
        Plan plan = Plan.build(net.sd, inputs(1, 2, 4), "out");
        for (int run = 0; run < 3 * Plan.PURGE_EVERY + 2; run++) {
            Map<String, INDArray> in = inputs(100 + run, 2, 4);
            assertEquals(sameDiff(net, in), plan.run(in).get("out"), "run " + run);
        }
    }

    /**
     * Issue 19 (the model soak): libnd4j's op context keeps a native NDArray for every array bound to it until it is
     * purged, and ND4J's {@code close()} of a context does nothing, so a plan that lives as long as its process (a
     * generation group's) grew by about 100 bytes per placeholder read per run: 139 to 349 MB here before the fix.
     */
    @Test
    void aPlanReplayedManyTimesDoesNotGrowTheProcess() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/self/status")), "Linux only");
        Net net = new Net(new ParamStore(8));
        SDVariable x = net.input("x", -1, 8);
        SDVariable y = x;
        for (int i = 0; i < 100; i++) y = y.add(x);                                  // x is read by 100 ops
        net.sd.identity("out", y);
        INDArray[] xs = {Nd4j.rand(4, 8), Nd4j.rand(4, 8)};
        Plan plan = Plan.build(net.sd, Map.of("x", xs[0]), "out");
        for (int run = 0; run < 2000; run++) plan.run(Map.of("x", xs[run % 2]));
        double before = residentMb();
        for (int run = 0; run < 18000; run++) plan.run(Map.of("x", xs[run % 2]));
        double after = residentMb();
        assertTrue(after - before < 48, String.format("resident memory grew from %.0f to %.0f MB over 18,000 runs", before, after));
        assertTrue(xs[1].mul(101).equalsWithEps(plan.run(Map.of("x", xs[1])).get("out"), 1e-4), "the runs still compute 101 x");
    }

    /** VmRSS after a collection, so the dead results of the runs are not counted. */
    private static double residentMb() throws Exception {
        System.gc();
        Thread.sleep(300);
        for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D", "")) / 1024.0;
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
