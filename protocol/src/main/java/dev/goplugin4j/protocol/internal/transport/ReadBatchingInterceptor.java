package dev.goplugin4j.protocol.internal.transport;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Hands a unary call's callbacks to the call's own executor once per read instead of once per
 * frame: what the transport gives the call's executor while a read passes the connection's
 * {@link #readMarker() read marker} is passed on when the whole read has been through the
 * pipeline, before the HTTP/2 handler flushes the writes the read caused; what it gives it at
 * other times on one of the channel's event loops is passed on by a task queued on that loop. The
 * callbacks still run on the call's executor, in order; only their hand-over waits.
 *
 * <p>Why: a blocking stub's call runs its callbacks on the waiting thread (grpc-java's
 * ThreadlessExecutor), and the transport hands over the response headers, the message and the
 * trailers one by one as it decodes them from a read. The waiting thread woke for the headers,
 * ran them, and often went back to sleep before the message came, to be woken again: go-plugin's
 * examples/grpc plugin answers a KV.Get with headers, message and trailers in one write, and the
 * caller still parked about twice per call. Handed over at the end of the read, the three wake
 * it once.
 *
 * <p>Only calls that carry their own executor in their call options (blocking stubs; async stubs
 * use the channel's executor) and are unary are batched; the rest pass unchanged. What is handed
 * over from a thread that is not one of the group's loops (a deadline, a cancel, a call that never
 * got a stream) goes to the call's executor at once. Thread-safe: each loop's batch is used on
 * that loop's thread only.
 */
final class ReadBatchingInterceptor implements ClientInterceptor {
  private final EventExecutor[] loops;
  /** Per loop, what was handed over while {@link #readMarker()} passed a read on; loop only. */
  private final Batch[] batches;

  ReadBatchingInterceptor(EventLoopGroup group) {
    List<EventExecutor> l = new ArrayList<>();
    group.forEach(l::add);
    this.loops = l.toArray(new EventExecutor[0]);
    this.batches = new Batch[loops.length];
    for (int i = 0; i < batches.length; i++) {
      batches[i] = new Batch();
    }
  }

  /**
   * A handler for the head of each connection's pipeline (first, before TLS): what a read hands
   * over is passed on as soon as the read has been through the pipeline, before the HTTP/2 handler
   * flushes what the read made it write (a PING ack, a WINDOW_UPDATE) at the end of the read: the
   * waiting thread does not wait for that write. One instance per connection.
   */
  ChannelInboundHandlerAdapter readMarker() {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Batch batch = batchOf(ctx.executor());
        if (batch == null || batch.reading) {
          ctx.fireChannelRead(msg);
          return;
        }
        batch.reading = true;
        try {
          ctx.fireChannelRead(msg);
        } finally {
          batch.reading = false;
          batch.handOver();
        }
      }
    };
  }

  private Batch batchOf(EventExecutor executor) {
    for (int i = 0; i < loops.length; i++) {
      if (loops[i] == executor) {
        return batches[i];
      }
    }
    return null;
  }

  /** Hand-overs queued during one read on one loop; used on that loop's thread only. */
  static final class Batch {
    boolean reading;
    final ArrayDeque<Runnable> queued = new ArrayDeque<>();

    /** Hands over all queued; one that throws does not keep the others back. */
    void handOver() {
      RuntimeException first = null;
      Runnable r;
      while ((r = queued.poll()) != null) {
        try {
          r.run();
        } catch (RuntimeException e) {
          if (first == null) {
            first = e;
          } else {
            first.addSuppressed(e);
          }
        }
      }
      if (first != null) {
        throw first;
      }
    }
  }

  @Override
  public <Q, A> ClientCall<Q, A> interceptCall(
      MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
    Executor own = options.getExecutor();
    if (own == null || method.getType() != MethodDescriptor.MethodType.UNARY) {
      return next.newCall(method, options);
    }
    return next.newCall(method, options.withExecutor(new EndOfReadExecutor(own, loops, batches)));
  }

  /** Passes tasks given on one of {@code loops} to {@code delegate} from a task on that loop. */
  static final class EndOfReadExecutor implements Executor {
    private final Executor delegate;
    private final EventExecutor[] loops;
    private final Batch[] batches;

    EndOfReadExecutor(Executor delegate, EventExecutor[] loops, Batch[] batches) {
      this.delegate = delegate;
      this.loops = loops;
      this.batches = batches;
    }

    @Override
    public void execute(Runnable task) {
      int i = currentLoop();
      if (i >= 0 && batches[i].reading) {
        // inside a read that passed the connection's read marker: handed over when it is through
        batches[i].queued.add(() -> delegate.execute(task));
        return;
      }
      if (i >= 0) {
        EventExecutor loop = loops[i];
        try {
          // queued from the loop's own thread: no wake-up, runs once the loop is done with
          // what it read
          loop.execute(() -> delegate.execute(task));
          return;
        } catch (RejectedExecutionException shuttingDown) {
          // fall through: hand it over now
        }
      }
      delegate.execute(task);
    }

    private int currentLoop() {
      for (int i = 0; i < loops.length; i++) {
        if (loops[i].inEventLoop()) {
          return i;
        }
      }
      return -1;
    }
  }
}
