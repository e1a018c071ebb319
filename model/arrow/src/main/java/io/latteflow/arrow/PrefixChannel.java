package io.latteflow.arrow;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * The first {@code limit} bytes of a channel, read-only: what an Arrow reader is given of a stream cut short, so it
 * reads the whole messages before the cut and never the length of the cut one (issue 19).
 */
final class PrefixChannel implements SeekableByteChannel {
    private final SeekableByteChannel channel;
    private final long limit;

    PrefixChannel(SeekableByteChannel channel, long limit) {
        this.channel = channel;
        this.limit = limit;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        long left = limit - channel.position();
        if (left <= 0) return -1;
        if (dst.remaining() <= left) return channel.read(dst);
        ByteBuffer part = dst.slice().limit((int) left);
        int n = channel.read(part);
        if (n > 0) dst.position(dst.position() + n);
        return n;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long position() throws IOException {
        return channel.position();
    }

    @Override
    public SeekableByteChannel position(long newPosition) throws IOException {
        channel.position(newPosition);
        return this;
    }

    @Override
    public long size() {
        return limit;
    }

    @Override
    public SeekableByteChannel truncate(long size) {
        throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
