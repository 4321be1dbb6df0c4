package dev.goplugin4j.examples.plugins;

import dev.goplugin4j.interop.proto.container.CounterGrpc;
import dev.goplugin4j.interop.proto.container.GetRequest;
import dev.goplugin4j.interop.proto.container.IncrementRequest;
import dev.goplugin4j.interop.proto.container.IncrementResponse;
import dev.goplugin4j.interop.proto.container.PutRequest;
import dev.goplugin4j.interop.proto.container.StorageGrpc;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Counter plugin of plugincontainer's {@code examples/container}, in Java, meant to run in a
 * container: it keeps no state of its own. {@code Increment(key, value, storage_server)} dials the
 * {@code Storage} service the host offers on broker id {@code storage_server}, reads the key, adds
 * and writes the sum back, and returns it.
 */
public final class ContainerCounterPlugin extends CounterGrpc.CounterImplBase {
  private static final Logger log = LoggerFactory.getLogger(ContainerCounterPlugin.class);

  private final GrpcBroker broker;

  /**
   * A counter calling back through {@code broker}.
   *
   * @param broker the plugin's broker
   */
  public ContainerCounterPlugin(GrpcBroker broker) {
    this.broker = broker;
  }

  /**
   * Serves the plugin; exits when the host is done with it.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    PluginServer.serveAndExit(
        ServeConfig.builder()
            .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
                ExampleHandshake.MAGIC_COOKIE_VALUE)
            .plugin("counter",
                (services, broker) -> services.addService(new ContainerCounterPlugin(broker)))
            .build());
  }

  @Override
  public void increment(IncrementRequest request, StreamObserver<IncrementResponse> responses) {
    ManagedChannel host = broker.dial(request.getStorageServer());
    try {
      StorageGrpc.StorageBlockingStub storage =
          StorageGrpc.newBlockingStub(host).withDeadlineAfter(30, TimeUnit.SECONDS);
      long value = storage.get(GetRequest.newBuilder().setKey(request.getKey()).build()).getValue()
          + request.getValue();
      storage.put(PutRequest.newBuilder().setKey(request.getKey()).setValue(value).build());
      log.atInfo().addKeyValue("key", request.getKey()).addKeyValue("value", value).log("incremented");
      responses.onNext(IncrementResponse.newBuilder().setValue(value).build());
      responses.onCompleted();
    } catch (StatusRuntimeException e) {
      log.warn("the host's Storage failed: {}", e.getStatus());
      responses.onError(e);
    } finally {
      host.shutdownNow();
    }
  }
}
