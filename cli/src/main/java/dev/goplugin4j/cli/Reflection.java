package dev.goplugin4j.cli;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Lists a plugin's gRPC services through server reflection ({@code grpc.reflection.v1}, then
 * {@code grpc.reflection.v1alpha}), which go-plugin registers on every gRPC plugin.
 */
final class Reflection {
  private Reflection() {}

  /**
   * The answer.
   *
   * @param api which reflection API answered, or why none did
   * @param names the fully qualified service names, sorted; empty when none answered
   */
  record Services(String api, List<String> names) {}

  static Services listServices(Channel channel, Duration timeout) {
    try {
      return new Services("grpc.reflection.v1", v1(channel, timeout));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
        return new Services("reflection failed: " + e.getStatus(), List.of());
      }
    }
    try {
      return new Services("grpc.reflection.v1alpha", v1alpha(channel, timeout));
    } catch (StatusRuntimeException e) {
      return new Services(e.getStatus().getCode() == Status.Code.UNIMPLEMENTED
          ? "the plugin does not serve gRPC reflection" : "reflection failed: " + e.getStatus(),
          List.of());
    }
  }

  private static List<String> v1(Channel channel, Duration timeout) {
    CompletableFuture<io.grpc.reflection.v1.ServerReflectionResponse> answer =
        new CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1.ServerReflectionRequest> req =
        io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel)
            .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .serverReflectionInfo(observer(answer));
    req.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder()
        .setListServices("*").build());
    req.onCompleted();
    List<String> names = new ArrayList<>();
    await(answer, timeout).getListServicesResponse().getServiceList()
        .forEach(s -> names.add(s.getName()));
    return names.stream().sorted().toList();
  }

  private static List<String> v1alpha(Channel channel, Duration timeout) {
    CompletableFuture<io.grpc.reflection.v1alpha.ServerReflectionResponse> answer =
        new CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1alpha.ServerReflectionRequest> req =
        io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel)
            .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .serverReflectionInfo(observer(answer));
    req.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder()
        .setListServices("*").build());
    req.onCompleted();
    List<String> names = new ArrayList<>();
    await(answer, timeout).getListServicesResponse().getServiceList()
        .forEach(s -> names.add(s.getName()));
    return names.stream().sorted().toList();
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> answer) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        answer.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        answer.completeExceptionally(Status.INTERNAL
            .withDescription("reflection stream ended without an answer").asRuntimeException());
      }
    };
  }

  private static <T> T await(CompletableFuture<T> f, Duration timeout) {
    try {
      return f.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException) {
        throw (StatusRuntimeException) e.getCause();
      }
      throw Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (TimeoutException e) {
      throw Status.DEADLINE_EXCEEDED.withDescription("no reflection answer").asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    }
  }
}
