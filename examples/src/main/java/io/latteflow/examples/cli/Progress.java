package io.latteflow.examples.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintWriter;

/**
 * A progress bar on the command's error stream: redrawn in place on a terminal, one line every few seconds
 * otherwise (logs, tests), so piped output stays readable.
 */
final class Progress {
    private Progress() {
    }

    static ProgressBar bar(String task, long max, PrintWriter err) {
        return bar(task, max, " steps", err);
    }

    /** A bar counting {@code unit} (with its leading space, e.g. {@code " images"}). */
    static ProgressBar bar(String task, long max, String unit, PrintWriter err) {
        return bar(task, max, unit, 0, err);
    }

    /** A bar that resumes at {@code done}: speed and ETA count only the work of this process. */
    static ProgressBar bar(String task, long max, String unit, long done, PrintWriter err) {
        boolean terminal = System.console() != null;
        return new ProgressBarBuilder().startsFrom(done, java.time.Duration.ZERO).setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(terminal ? 500 : 5000).setConsumer(new Consumer(err, terminal))
                .showSpeed(new java.text.DecimalFormat("0.00")).setUnit(unit, 1).setMaxRenderedLength(120).build();
    }

    private static final class Consumer implements ProgressBarConsumer {
        private final PrintWriter err;
        private final boolean terminal;
        private String last = "";

        Consumer(PrintWriter err, boolean terminal) {
            this.err = err;
            this.terminal = terminal;
        }

        @Override
        public int getMaxRenderedLength() {
            return 120;
        }

        @Override
        public synchronized void accept(String rendered) {
            if (rendered.equals(last)) return;
            last = rendered;
            if (terminal) err.print('\r' + rendered);
            else err.println(rendered);
            err.flush();
        }

        @Override
        public synchronized void close() {
            if (terminal) err.println();
            err.flush();
        }
    }
}
