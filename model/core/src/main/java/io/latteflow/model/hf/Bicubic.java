package io.latteflow.model.hf;

/**
 * PIL's bicubic resampling of 8-bit channels ({@code Image.resize(size, BICUBIC)}): a separable convolution with the
 * a = -0.5 cubic whose support is widened by the scale when shrinking (antialiasing), coefficients normalised and
 * held in 22-bit fixed point, a horizontal pass rounded to 8 bits, then a vertical one. Written here because no
 * Java imaging library reproduces PIL's numbers, and Qwen2-VL's logits depend on them.
 */
final class Bicubic {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private Bicubic() {
    }

    /** Resamples each of {@code channels} (row-major w x h) to w2 x h2. */
    static int[][] resize(int[][] channels, int w, int h, int w2, int h2) {
        int[][] out = new int[channels.length][];
        Coefficients horizontal = w2 == w ? null : new Coefficients(w, w2), vertical = h2 == h ? null : new Coefficients(h, h2);
        for (int ch = 0; ch < channels.length; ch++) {
            int[] x = channels[ch];
            if (horizontal != null) x = pass(x, h, w, w2, horizontal, true);
            if (vertical != null) x = pass(x, w2, h, h2, vertical, false);
            out[ch] = x;
        }
        return out;
    }

    /** Resamples along rows (horizontal) or columns: {@code lines} lines of {@code from} samples to {@code to}. */
    private static int[] pass(int[] in, int lines, int from, int to, Coefficients k, boolean horizontal) {
        int[] out = new int[lines * to];
        for (int line = 0; line < lines; line++) {
            for (int i = 0; i < to; i++) {
                long sum = 1L << (PRECISION_BITS - 1);
                int start = k.start[i];
                for (int j = 0; j < k.count[i]; j++) {
                    int at = horizontal ? line * from + start + j : (start + j) * lines + line;
                    sum += (long) in[at] * k.weights[i][j];
                }
                int v = (int) (sum >> PRECISION_BITS);
                out[horizontal ? line * to + i : i * lines + line] = Math.max(0, Math.min(255, v));
            }
        }
        return out;
    }

    private static double cubic(double x) {
        double a = -0.5;
        x = Math.abs(x);
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
        return 0;
    }

    /** Per output sample: the first input sample, how many follow, and their fixed-point weights. */
    private static final class Coefficients {
        final int[] start, count;
        final int[][] weights;

        Coefficients(int inSize, int outSize) {
            double scale = (double) inSize / outSize, filterScale = Math.max(scale, 1.0), support = 2.0 * filterScale;
            start = new int[outSize];
            count = new int[outSize];
            weights = new int[outSize][];
            for (int i = 0; i < outSize; i++) {
                double center = (i + 0.5) * scale;
                int min = Math.max((int) (center - support + 0.5), 0);
                int max = Math.min((int) (center + support + 0.5), inSize) - min;
                double[] k = new double[max];
                double total = 0;
                for (int x = 0; x < max; x++) total += k[x] = cubic((x + min - center + 0.5) / filterScale);
                weights[i] = new int[max];
                for (int x = 0; x < max; x++) {
                    double w = total == 0 ? k[x] : k[x] / total;
                    weights[i][x] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
                }
                start[i] = min;
                count[i] = max;
            }
        }
    }
}
