package com.example.kv;

import com.example.kv.proto.Empty;
import com.example.kv.proto.GetRequest;
import com.example.kv.proto.GetResponse;
import com.example.kv.proto.KVGrpc;
import com.example.kv.proto.PutRequest;
import com.google.protobuf.ByteString;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The plugin project of docs/maven.md: go-plugin's KV service, one file per key. */
public final class KvPlugin extends KVGrpc.KVImplBase {
  /** Started by a host, never by hand. */
  public static void main(String[] args) {
    PluginServer.serveAndExit(ServeConfig.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", (services, broker) -> services.addService(new KvPlugin()))
        .build());
  }

  @Override
  public void put(PutRequest request, StreamObserver<Empty> response) {
    try {
      Files.write(Path.of("kv_" + request.getKey()), request.getValue().toByteArray());
      response.onNext(Empty.getDefaultInstance());
      response.onCompleted();
    } catch (IOException e) {
      response.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
    }
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> response) {
    try {
      byte[] value = Files.readAllBytes(Path.of("kv_" + request.getKey()));
      response.onNext(GetResponse.newBuilder().setValue(ByteString.copyFrom(value)).build());
      response.onCompleted();
    } catch (NoSuchFileException e) {
      response.onError(Status.NOT_FOUND.withDescription("no key " + request.getKey()).asRuntimeException());
    } catch (IOException e) {
      response.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
    }
  }
}
