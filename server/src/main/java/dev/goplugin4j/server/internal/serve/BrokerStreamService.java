package dev.goplugin4j.server.internal.serve;

import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import dev.goplugin4j.protocol.internal.proto.GRPCBrokerGrpc;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * The plugin's end of {@code plugin.GRPCBroker/StartStream}: the host opens the stream once it is
 * connected; messages from it go to the broker, and the broker's messages go out on it. A send
 * before the host opened the stream waits up to {@link BrokerImpl#WAIT_MILLIS}, as go-plugin's
 * send blocks until the stream runs. A newer stream replaces an older one. Thread-safe.
 */
final class BrokerStreamService extends GRPCBrokerGrpc.GRPCBrokerImplBase {
  private final Logger log;
  private final Object lock = new Object();
  private volatile Consumer<ConnInfo> receiver = m -> {};
  private ServerCallStreamObserver<ConnInfo> out;
  private boolean closed;

  BrokerStreamService(Logger log) {
    this.log = log;
  }

  void receiver(Consumer<ConnInfo> receiver) {
    this.receiver = receiver;
  }

  @Override
  public StreamObserver<ConnInfo> startStream(StreamObserver<ConnInfo> responses) {
    ServerCallStreamObserver<ConnInfo> stream = (ServerCallStreamObserver<ConnInfo>) responses;
    stream.setOnCancelHandler(() -> detach(stream));
    ServerCallStreamObserver<ConnInfo> previous;
    synchronized (lock) {
      if (closed) {
        stream.onCompleted();
        return noop();
      }
      previous = out;
      out = stream;
      lock.notifyAll();
    }
    if (previous != null) {
      log.debug("the host opened a new broker stream; closing the previous one");
      completeQuietly(previous);
    }
    return new StreamObserver<>() {
      @Override
      public void onNext(ConnInfo value) {
        receiver.accept(value);
      }

      @Override
      public void onError(Throwable t) {
        detach(stream);
      }

      @Override
      public void onCompleted() {
        detach(stream);
        completeQuietly(stream);
      }
    };
  }

  /** Sends one message to the host; the broker serializes calls. */
  void send(ConnInfo msg) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BrokerImpl.WAIT_MILLIS);
    synchronized (lock) {
      while (out == null && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new PluginException(
              "the host has not opened the plugin.GRPCBroker stream within "
                  + BrokerImpl.WAIT_MILLIS
                  + " ms, so broker id "
                  + msg.getServiceId()
                  + " cannot be announced; is the host a go-plugin gRPC client?");
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new PluginException("interrupted while waiting for the broker stream", e);
        }
      }
      if (closed) {
        throw new PluginException("the broker is closed (the plugin is shutting down)");
      }
      try {
        out.onNext(msg);
      } catch (RuntimeException e) {
        out = null;
        throw new PluginException("the host's broker stream is gone: " + e.getMessage(), e);
      }
    }
  }

  /** Completes the host's stream; idempotent. */
  void close() {
    ServerCallStreamObserver<ConnInfo> s;
    synchronized (lock) {
      closed = true;
      s = out;
      out = null;
      lock.notifyAll();
    }
    if (s != null) {
      completeQuietly(s);
    }
  }

  private void detach(ServerCallStreamObserver<ConnInfo> stream) {
    synchronized (lock) {
      if (out == stream) {
        out = null;
      }
    }
  }

  private static void completeQuietly(ServerCallStreamObserver<ConnInfo> s) {
    try {
      s.onCompleted();
    } catch (RuntimeException e) {
      // cancelled already
    }
  }

  private static StreamObserver<ConnInfo> noop() {
    return new StreamObserver<>() {
      @Override
      public void onNext(ConnInfo value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}
