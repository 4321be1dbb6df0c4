package dev.goplugin4j.interop;

import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.interop.proto.container.CounterGrpc;
import dev.goplugin4j.interop.proto.container.GetRequest;
import dev.goplugin4j.interop.proto.container.GetResponse;
import dev.goplugin4j.interop.proto.container.IncrementRequest;
import dev.goplugin4j.interop.proto.container.PutRequest;
import dev.goplugin4j.interop.proto.container.PutResponse;
import dev.goplugin4j.interop.proto.container.StorageGrpc;
import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Objects;

/**
 * Host adapter for the {@code proto.Counter} service of plugincontainer's examples/container (the
 * {@code plugin-counter} image), with the host-side {@code proto.Storage} callback served through
 * the broker for each increment, as plugincontainer's example host does. Stateless and
 * thread-safe.
 */
public final class StorageCounterPlugin implements GrpcPlugin<StorageCounter> {
  /** Creates the adapter. */
  public StorageCounterPlugin() {}

  @Override
  public StorageCounter client(Channel channel, GrpcBroker broker) {
    CounterGrpc.CounterBlockingStub stub = CounterGrpc.newBlockingStub(channel);
    return (key, value, storage) -> {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(storage, "storage");
      int id = broker.nextId();
      try (GrpcBroker.BrokeredServer server =
          broker.acceptAndServe(id, List.of(new StorageService(storage)))) {
        return stub.increment(
                IncrementRequest.newBuilder().setKey(key).setValue(value).setStorageServer(server.id()).build())
            .getValue();
      }
    };
  }

  private static final class StorageService extends StorageGrpc.StorageImplBase {
    private final Storage storage;

    StorageService(Storage storage) {
      this.storage = storage;
    }

    @Override
    public void get(GetRequest request, StreamObserver<GetResponse> response) {
      long value;
      try {
        value = storage.get(request.getKey());
      } catch (RuntimeException e) {
        response.onError(failed("get", e));
        return;
      }
      response.onNext(GetResponse.newBuilder().setValue(value).build());
      response.onCompleted();
    }

    @Override
    public void put(PutRequest request, StreamObserver<PutResponse> response) {
      try {
        storage.put(request.getKey(), request.getValue());
      } catch (RuntimeException e) {
        response.onError(failed("put", e));
        return;
      }
      response.onNext(PutResponse.getDefaultInstance());
      response.onCompleted();
    }

    private static RuntimeException failed(String op, RuntimeException e) {
      return Status.UNKNOWN.withDescription("Storage." + op + " failed: " + e).withCause(e).asRuntimeException();
    }
  }
}
