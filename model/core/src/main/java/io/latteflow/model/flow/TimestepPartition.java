package io.latteflow.model.flow;

/**
 * Which expert group owns which timesteps. Time t runs from 0 (noise) to 1 (data); in training steps
 * tau = 1000 (1 - t). Group k owns the k-th of K equal tau-intervals, group 0 the noisiest. For training each
 * interval is widened by half the overlap at each inner boundary; at inference the partition is strict.
 *
 * <pre>{@code
 * TimestepPartition p = new TimestepPartition(4, 100);
 * p.groupAt(0.1);            // 0: t = 0.1 is tau = 900
 * p.trainingInterval(1);     // {0.2, 0.55}: tau in [450, 800]
 * }</pre>
 */
public record TimestepPartition(int groups, int overlap) {
    public static final double STEPS = 1000;

    public TimestepPartition {
        if (groups < 1) throw new IllegalArgumentException("groups must be >= 1, got " + groups);
        if (overlap < 0 || overlap >= STEPS / groups) throw new IllegalArgumentException("overlap " + overlap + " must be in [0, " + STEPS / groups + ")");
    }

    /** The group that runs at time t during sampling (strict partition). */
    public int groupAt(double t) {
        if (!(t >= 0 && t <= 1)) throw new IllegalArgumentException("t must be in [0, 1], got " + t);
        return Math.min(groups - 1, (int) Math.floor(t * groups));
    }

    /** {tMin, tMax} that group k trains on, widened by half the overlap at inner boundaries. */
    public double[] trainingInterval(int k) {
        double half = overlap / 2.0 / STEPS;
        double lo = (double) k / groups - (k > 0 ? half : 0);
        double hi = (double) (k + 1) / groups + (k < groups - 1 ? half : 0);
        return new double[]{lo, hi};
    }
}
