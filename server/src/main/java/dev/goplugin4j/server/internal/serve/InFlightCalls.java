package dev.goplugin4j.server.internal.serve;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;

/**
 * Tracks the plugin's own calls in flight, so that a shutdown can end the ones that outlive the
 * grace period with a clear status, and logs calls the host abandons (deadline, or a host that
 * went away mid-call). Calls of the go-plugin services ({@code plugin.*}, health) are not tracked.
 * Thread-safe.
 */
final class InFlightCalls implements ServerInterceptor {
  private final Logger log;
  private final Set<Tracked<?, ?>> calls = ConcurrentHashMap.newKeySet();
  private volatile boolean stopping;

  InFlightCalls(Logger log) {
    this.log = log;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    String service = call.getMethodDescriptor().getServiceName();
    if (service == null || service.startsWith("plugin.") || service.startsWith("grpc.health.")) {
      return next.startCall(call, headers);
    }
    // A context of our own, so that a shutdown can cancel it: gRPC cancels its context of a call
    // the server closed only after the handler returned.
    Context.CancellableContext context = Context.current().withCancellation();
    Tracked<Q, A> tracked = new Tracked<>(call, context);
    calls.add(tracked);
    ServerCall.Listener<Q> delegate;
    try {
      delegate = Contexts.interceptCall(context, tracked, headers, next);
    } catch (RuntimeException | Error e) {
      calls.remove(tracked);
      context.cancel(e);
      throw e;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onComplete() {
        calls.remove(tracked);
        try {
          super.onComplete();
        } finally {
          context.cancel(null);
        }
      }

      @Override
      public void onCancel() {
        calls.remove(tracked);
        if (!tracked.closedByServer() && !stopping) {
          log.warn(
              "the host cancelled the call {} before it finished (its deadline expired, it gave up,"
                  + " or the host disconnected)",
              call.getMethodDescriptor().getFullMethodName());
        }
        super.onCancel();
      }
    };
  }

  /** Marks the start of a shutdown: cancellations from now on are expected. */
  void stopping() {
    stopping = true;
  }

  /** How many calls are in flight. */
  int count() {
    return calls.size();
  }

  /**
   * Ends every tracked call with {@code status}; later responses from their handlers are
   * dropped.
   *
   * @return the full method names of the calls ended
   */
  List<String> closeAll(Status status) {
    List<String> names = new ArrayList<>();
    for (Tracked<?, ?> t : List.copyOf(calls)) {
      if (t.closeFromServer(status)) {
        names.add(t.getMethodDescriptor().getFullMethodName());
      }
      calls.remove(t);
    }
    return names;
  }

  /** A call whose methods are serialized, so that we may close it from another thread. */
  private static final class Tracked<Q, A> extends ForwardingServerCall.SimpleForwardingServerCall<Q, A> {
    private final Context.CancellableContext context;
    private boolean closed;
    private boolean closedByUs;

    Tracked(ServerCall<Q, A> delegate, Context.CancellableContext context) {
      super(delegate);
      this.context = context;
    }

    synchronized boolean closedByServer() {
      return closedByUs;
    }

    synchronized boolean closeFromServer(Status status) {
      if (closed) {
        return false;
      }
      closed = true;
      closedByUs = true;
      try {
        super.close(status, new Metadata());
      } catch (RuntimeException e) {
        return false;
      } finally {
        context.cancel(status.asException());
      }
      return true;
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(A message) {
      if (!closed) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!closed) {
        closed = true;
        super.close(status, trailers);
      }
    }

    @Override
    public synchronized void request(int numMessages) {
      if (!closed) {
        super.request(numMessages);
      }
    }

    @Override
    public synchronized boolean isReady() {
      return !closed && super.isReady();
    }
  }
}
