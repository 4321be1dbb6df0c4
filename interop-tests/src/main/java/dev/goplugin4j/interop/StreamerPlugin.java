package dev.goplugin4j.interop;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.interop.proto.streaming.Configure;
import dev.goplugin4j.interop.proto.streaming.Read;
import dev.goplugin4j.interop.proto.streaming.StreamerServiceGrpc;
import dev.goplugin4j.interop.proto.streaming.Write;
import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Host adapter for the {@code proto.StreamerService} of go-plugin's examples/streaming (the
 * counterpart of its {@code shared.StreamerGRPCClient}): a unary configure call, a server-streaming
 * read and a client-streaming write that honours gRPC flow control. Stateless and thread-safe;
 * the clients it makes are not (see {@link Streamer}).
 */
public final class StreamerPlugin implements GrpcPlugin<Streamer> {
  /** Creates the adapter. */
  public StreamerPlugin() {}

  @Override
  public Streamer client(Channel channel, GrpcBroker broker) {
    return new Client(StreamerServiceGrpc.newBlockingStub(channel), StreamerServiceGrpc.newStub(channel));
  }

  /** The largest array most JVMs allocate. */
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  private static final class Client implements Streamer {
    private final StreamerServiceGrpc.StreamerServiceBlockingStub blocking;
    private final StreamerServiceGrpc.StreamerServiceStub async;
    private int chunkSize;

    Client(StreamerServiceGrpc.StreamerServiceBlockingStub blocking, StreamerServiceGrpc.StreamerServiceStub async) {
      this.blocking = blocking;
      this.async = async;
    }

    @Override
    public void configure(String path, long chunkSize) {
      Objects.requireNonNull(path, "path");
      if (chunkSize < 1 || chunkSize > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("chunkSize must be in [1, 2^31-1], got " + chunkSize);
      }
      blocking.configure(Configure.Request.newBuilder().setPath(path).setChunkSize(chunkSize).build());
      this.chunkSize = (int) chunkSize;
    }

    @Override
    public byte[] read() {
      // Each chunk's bytes are already a copy of their own (parsing copied them out of the
      // transport's buffers): keep them and copy each once into the result, instead of a
      // ByteArrayOutputStream's copy, its doublings and its final copy (about 4 copies of every
      // byte, a quarter of the host's CPU for 64 MiB in 64 KiB chunks).
      List<ByteString> parts = new ArrayList<>();
      long total = 0;
      Iterator<Read.ResponseChunk> chunks = blocking.read(Read.Request.getDefaultInstance());
      while (chunks.hasNext()) {
        ByteString part = chunks.next().getReadBytes();
        total += part.size();
        if (total > MAX_ARRAY) {
          throw new IllegalStateException("the streamer plugin sent more than " + MAX_ARRAY
              + " bytes, more than a Java array holds");
        }
        parts.add(part);
      }
      byte[] out = new byte[(int) total];
      int at = 0;
      for (ByteString part : parts) {
        part.copyTo(out, at);
        at += part.size();
      }
      return out;
    }

    @Override
    public void write(byte[] data) {
      Objects.requireNonNull(data, "data");
      if (chunkSize == 0) {
        throw new IllegalStateException("call configure(path, chunkSize) before write");
      }
      WriteCall call = new WriteCall();
      async.write(call);
      call.send(data, chunkSize);
    }
  }

  /** One client-streaming Write: sends chunks only while the transport is ready. */
  private static final class WriteCall implements ClientResponseObserver<Write.RequestChunk, Write.Response> {
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final Object readiness = new Object();
    private ClientCallStreamObserver<Write.RequestChunk> requests;

    @Override
    public void beforeStart(ClientCallStreamObserver<Write.RequestChunk> requestStream) {
      this.requests = requestStream;
      requestStream.setOnReadyHandler(this::wake);
    }

    /**
     * Sends {@code data} in chunks that share its array (no copy: gRPC serializes each message
     * into its transport buffer during {@code onNext}, and the caller is blocked until the call
     * ends, so the array cannot change under a message).
     */
    void send(byte[] data, int chunkSize) {
      try {
        for (int off = 0; off < data.length && !done.isDone(); off += chunkSize) {
          awaitReady();
          int len = Math.min(chunkSize, data.length - off);
          requests.onNext(
              Write.RequestChunk.newBuilder().setBytesToWrite(UnsafeByteOperations.unsafeWrap(data, off, len)).build());
        }
        if (!done.isDone()) {
          requests.onCompleted();
        }
      } catch (InterruptedException e) {
        requests.cancel("interrupted", e);
        Thread.currentThread().interrupt();
        throw new CancellationException("interrupted while writing to the streamer plugin");
      }
      try {
        done.join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof StatusRuntimeException s) {
          throw s;
        }
        throw e;
      }
    }

    private void awaitReady() throws InterruptedException {
      synchronized (readiness) {
        while (!requests.isReady() && !done.isDone()) {
          readiness.wait(1000);
        }
      }
    }

    private void wake() {
      synchronized (readiness) {
        readiness.notifyAll();
      }
    }

    @Override
    public void onNext(Write.Response value) {}

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
      wake();
    }

    @Override
    public void onCompleted() {
      done.complete(null);
      wake();
    }
  }
}
