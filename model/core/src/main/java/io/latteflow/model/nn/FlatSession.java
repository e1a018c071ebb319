package io.latteflow.model.nn;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.memory.AbstractMemoryMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A SameDiff execution session whose memory stays flat however many times a graph runs.
 *
 * <p>ND4J 1.0.0-M2.1's {@link InferenceSession} has two holders that only grow in a long-lived process, one session
 * per graph and thread:
 * <ul>
 * <li>{@code freedArrays}, a {@code LinkedHashSet<Long>} of the id of every intermediate array the session has
 *     released, is never cleared: about 1,450 ids (~100 KB of heap) per guided generate call on the tiny preset.
 *     Ids are unique per array and a reused array gets a new one, so the set only has to span one run; it is
 *     cleared when a run starts.</li>
 * <li>its default {@code ArrayCacheMemoryMgr} keeps every released array for reuse by exact shape, up to a quarter
 *     of JavaCPP's max bytes per session, and arrays whose shapes never come back (shape vectors, prompt-length
 *     dependent tensors) stay there. {@link ClosingMemoryMgr} frees a released array at once instead, which is
 *     what ArrayCacheMemoryMgr itself does when its cache is disabled.</li>
 * </ul>
 * Sessions are keyed by thread; {@link #install} puts one in place for the calling thread before a graph runs.
 */
public final class FlatSession extends InferenceSession {

    private FlatSession(SameDiff sd) {
        super(sd);
        setMmgr(new ClosingMemoryMgr());
    }

    /**
     * Makes the calling thread's session of {@code sd} (and of its gradient function, if built) a FlatSession.
     * Cheap after the first call per graph and thread.
     */
    public static void install(SameDiff sd) {
        installOn(sd);
        if (sd.hasGradientFunction()) installOn(sd.getFunction("grad"));
    }

    /**
     * Replaces, not just adds: building a graph ({@code sd.var} with an array) already creates a default session.
     * A thread's first run of a graph also drops the sessions of threads that have ended: ND4J never removes a
     * session, and one holds its thread's last activations, so a process whose threads come and go (a Flink
     * TaskManager starts new task threads at every job and every restart) grew by hundreds of MB per thread.
     */
    private static void installOn(SameDiff sd) {
        Thread current = Thread.currentThread();
        Map<Long, InferenceSession> sessions = sd.getSessions();
        if (sessions.get(current.getId()) instanceof FlatSession) return;
        THREADS.put(current.getId(), new WeakReference<>(current));
        THREADS.values().removeIf(FlatSession::ended);
        sessions.keySet().removeIf(id -> id != current.getId() && ended(THREADS.get(id)));
        sessions.put(current.getId(), new FlatSession(sd));
    }

    /** Threads that ran a graph, by id; weak, so an ended thread is not kept alive here. */
    private static final Map<Long, WeakReference<Thread>> THREADS = new ConcurrentHashMap<>();

    /** A thread that never ran a graph (null) counts as ended: its session was only made while building one. */
    private static boolean ended(WeakReference<Thread> ref) {
        Thread t = ref == null ? null : ref.get();
        return t == null || !t.isAlive();
    }

    @Override
    protected Map<String, INDArray> preprocessPlaceholders(Map<String, INDArray> placeholders, At at) {
        freedArrays.clear();
        return super.preprocessPlaceholders(placeholders, at);
    }

    /** Allocates fresh arrays and closes released ones, so native memory is returned when the session is done with it. */
    static final class ClosingMemoryMgr extends AbstractMemoryMgr {
        @Override
        public INDArray allocate(boolean detached, DataType dataType, long... shape) {
            return Nd4j.createUninitializedDetached(dataType, shape);
        }

        @Override
        public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
            if (descriptor.isEmpty()) {
                INDArray empty = Nd4j.create(descriptor);
                return detached ? empty.detach() : empty;
            }
            return Nd4j.createUninitializedDetached(descriptor.dataType(), descriptor.getShape());
        }

        @Override
        public void release(INDArray array) {
            if (array.closeable()) array.close();
        }

        @Override
        public void close() {
        }
    }
}
