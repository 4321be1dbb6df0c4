package dev.goplugin4j.server.internal.serve;

import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.ManagedChannel;
import java.util.List;

/**
 * The broker handed to plugins at registration, before the real one exists (it needs the TLS
 * contexts, which are made in parallel). Delegates once the server is set up; using it earlier,
 * i.e. inside {@code register} itself, is an error with a clear message. Thread-safe.
 */
final class DeferredBroker implements GrpcBroker {
  private volatile GrpcBroker target;

  void target(GrpcBroker broker) {
    this.target = broker;
  }

  private GrpcBroker target() {
    GrpcBroker t = target;
    if (t == null) {
      throw new IllegalStateException(
          "the broker cannot be used during GrpcServerPlugin.register: keep it and use it once"
              + " the host calls the plugin's services");
    }
    return t;
  }

  @Override
  public int nextId() {
    return target().nextId();
  }

  @Override
  public BrokeredServer acceptAndServe(int id, List<?> services) {
    return target().acceptAndServe(id, services);
  }

  @Override
  public ManagedChannel dial(int id) {
    return target().dial(id);
  }

  @Override
  public String toString() {
    return "GrpcBroker[" + (target == null ? "not started" : "plugin side") + "]";
  }
}
