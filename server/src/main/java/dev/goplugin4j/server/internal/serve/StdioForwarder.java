package dev.goplugin4j.server.internal.serve;

import com.google.protobuf.ByteString;
import dev.goplugin4j.protocol.internal.proto.GRPCStdioGrpc;
import dev.goplugin4j.protocol.internal.proto.StdioData;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * {@code plugin.GRPCStdio}: whatever the plugin writes to {@code System.out} and {@code
 * System.err} once the server took over stdio is queued (in write order, both channels in one
 * queue) and streamed to the host that calls {@code StreamStdio}.
 *
 * <p>Up to {@link #MAX_QUEUED_BYTES} wait for a host. With a host attached, writers block while
 * the queue is full (back-pressure, as go-plugin's unbuffered channel); with none, data beyond the
 * limit is dropped and counted, so a host that never reads cannot hang the plugin. A newer
 * {@code StreamStdio} call replaces the previous one. Thread-safe.
 */
final class StdioForwarder extends GRPCStdioGrpc.GRPCStdioImplBase {
  static final int MAX_QUEUED_BYTES = 1 << 20;
  /** Merge small writes into one message up to this size; split larger ones. */
  static final int CHUNK_BYTES = 32 * 1024;

  private final Logger log;
  private final Object lock = new Object();
  private final ArrayDeque<Chunk> queue = new ArrayDeque<>();
  private long queuedBytes;
  private long droppedBytes;
  private ServerCallStreamObserver<StdioData> attached;
  private boolean closed;

  private static final class Chunk {
    final StdioData.Channel channel;
    ByteString data;

    Chunk(StdioData.Channel channel, ByteString data) {
      this.channel = channel;
      this.data = data;
    }
  }

  StdioForwarder(Logger log) {
    this.log = log;
  }

  /** An output stream feeding one channel; use in a PrintStream for System.out/err. */
  OutputStream stream(StdioData.Channel channel) {
    return new OutputStream() {
      @Override
      public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        for (int pos = off; pos < off + len; pos += CHUNK_BYTES) {
          int n = Math.min(CHUNK_BYTES, off + len - pos);
          offer(channel, ByteString.copyFrom(b, pos, n));
        }
      }
    };
  }

  private void offer(StdioData.Channel channel, ByteString data) {
    if (data.isEmpty()) {
      return;
    }
    long dropped = 0;
    synchronized (lock) {
      while (!closed && attached != null && queuedBytes + data.size() > MAX_QUEUED_BYTES) {
        try {
          lock.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (closed || queuedBytes + data.size() > MAX_QUEUED_BYTES) {
        if (!closed && droppedBytes == 0) {
          dropped = data.size();
        }
        droppedBytes += data.size();
      } else {
        Chunk last = queue.peekLast();
        if (last != null && last.channel == channel && last.data.size() + data.size() <= CHUNK_BYTES) {
          last.data = last.data.concat(data);
        } else {
          queue.addLast(new Chunk(channel, data));
        }
        queuedBytes += data.size();
        drainLocked();
      }
    }
    if (dropped > 0) {
      log.warn(
          "dropping plugin stdout/stderr output: the host does not read plugin.GRPCStdio and {} bytes"
              + " are already queued (go-plugin hosts read it when SyncStdout/SyncStderr are used)",
          MAX_QUEUED_BYTES);
    }
  }

  @Override
  public void streamStdio(com.google.protobuf.Empty request, StreamObserver<StdioData> responses) {
    ServerCallStreamObserver<StdioData> out = (ServerCallStreamObserver<StdioData>) responses;
    out.setOnCancelHandler(() -> detach(out));
    out.setOnReadyHandler(
        () -> {
          synchronized (lock) {
            drainLocked();
          }
        });
    ServerCallStreamObserver<StdioData> previous;
    synchronized (lock) {
      if (closed) {
        out.onCompleted();
        return;
      }
      previous = attached;
      attached = out;
      if (droppedBytes > 0) {
        log.warn("{} bytes of plugin stdout/stderr were dropped before the host attached", droppedBytes);
        droppedBytes = 0;
      }
      drainLocked();
    }
    if (previous != null) {
      completeQuietly(previous);
    }
  }

  private void detach(ServerCallStreamObserver<StdioData> out) {
    synchronized (lock) {
      if (attached == out) {
        attached = null;
        lock.notifyAll();
      }
    }
  }

  private void drainLocked() {
    ServerCallStreamObserver<StdioData> out = attached;
    while (out != null && !queue.isEmpty() && out.isReady()) {
      Chunk c = queue.pollFirst();
      queuedBytes -= c.data.size();
      try {
        out.onNext(StdioData.newBuilder().setChannel(c.channel).setData(c.data).build());
      } catch (RuntimeException e) {
        // cancelled under us; the data is lost with the stream
        attached = null;
        break;
      }
    }
    lock.notifyAll();
  }

  /** Waits up to {@code millis} for queued data to be handed to an attached host. */
  void drain(long millis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    synchronized (lock) {
      while (attached != null && !queue.isEmpty()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** Ends the host's stream; later writes are dropped. Idempotent. */
  void close() {
    ServerCallStreamObserver<StdioData> out;
    synchronized (lock) {
      closed = true;
      out = attached;
      attached = null;
      lock.notifyAll();
    }
    if (out != null) {
      completeQuietly(out);
    }
  }

  /** Writes what is still queued, in order, to {@code sink} (a failed start's diagnosis). */
  void dumpTo(OutputStream sink) {
    synchronized (lock) {
      try {
        for (Chunk c : queue) {
          c.data.writeTo(sink);
        }
        sink.flush();
      } catch (IOException e) {
        // nowhere left to write
      }
      queue.clear();
      queuedBytes = 0;
    }
  }

  private static void completeQuietly(ServerCallStreamObserver<StdioData> out) {
    try {
      out.onCompleted();
    } catch (RuntimeException e) {
      // already cancelled
    }
  }
}
