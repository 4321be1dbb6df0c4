package dev.goplugin4j.interop;

import com.google.protobuf.UnsafeByteOperations;
import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.interop.proto.streaming.Configure;
import dev.goplugin4j.interop.proto.streaming.Read;
import dev.goplugin4j.interop.proto.streaming.StreamerServiceGrpc;
import dev.goplugin4j.interop.proto.streaming.Write;
import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

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
    return new Client(channel);
  }

  /** The largest array most JVMs allocate. */
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  private static final class Client implements Streamer {
    private final Channel channel;
    private final StreamerServiceGrpc.StreamerServiceBlockingStub blocking;
    private final StreamerServiceGrpc.StreamerServiceStub async;
    private int chunkSize;

    Client(Channel channel) {
      this.channel = channel;
      this.blocking = StreamerServiceGrpc.newBlockingStub(channel);
      this.async = StreamerServiceGrpc.newStub(channel);
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
      ReadCall call = new ReadCall();
      // the generated method with the call's own sink as its response marshaller (same name and
      // wire format); the callbacks run on the transport's thread: they only complete the call
      MethodDescriptor<Read.Request, Read.ResponseChunk> method =
          StreamerServiceGrpc.getReadMethod().toBuilder().setResponseMarshaller(call.sink).build();
      ClientCalls.asyncServerStreamingCall(
          channel.newCall(method, CallOptions.DEFAULT.withExecutor(Runnable::run)),
          Read.Request.getDefaultInstance(), call);
      return call.await();
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

  /**
   * One server-streaming Read. Its callbacks run on the transport's thread, where its {@link
   * ChunkSink} copies each chunk from the transport's buffers into one growing array as the chunk
   * arrives; the caller only waits for the end. A blocking stub's iterator took one message per
   * round trip between the transport's thread and the caller (two thread switches per 64 KiB
   * chunk), and keeping the parsed chunks left a copy of all of them for after the last one.
   */
  private static final class ReadCall implements ClientResponseObserver<Read.Request, Read.ResponseChunk> {
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    final ChunkSink sink = new ChunkSink();
    private ClientCallStreamObserver<Read.Request> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<Read.Request> requestStream) {
      this.call = requestStream;
    }

    @Override
    public void onNext(Read.ResponseChunk value) {
      // the sink has the bytes already
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      done.complete(null);
    }

    /**
     * Waits for the end of the stream; an interrupt (also one already pending) cancels the call and
     * throws a {@code CANCELLED} {@link io.grpc.StatusRuntimeException}, the interrupt kept.
     */
    byte[] await() {
      try {
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        done.get();
      } catch (InterruptedException e) {
        call.cancel("interrupted", e);
        Thread.currentThread().interrupt();
        // what grpc's blocking stub threw for an interrupted read
        throw Status.CANCELLED.withDescription("interrupted while reading from the streamer plugin")
            .withCause(e).asRuntimeException();
      } catch (ExecutionException e) {
        if (sink.tooLarge) {
          throw new IllegalStateException(
              "the streamer plugin sent more than " + MAX_ARRAY + " bytes, more than a Java array holds");
        }
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        throw new IllegalStateException(e.getCause());
      }
      return sink.bytes();
    }
  }

  /**
   * The response marshaller of one Read call: parses each {@code Read.ResponseChunk} by copying its
   * bytes from the transport's buffers straight onto the end of one array, grown by doubling as
   * go-plugin's Go client grows its buffer, and hands grpc an empty message. grpc's protobuf
   * marshaller copied each chunk twice (into a scratch array, then into a new array of the
   * message's own), and the chunks were copied once more into the result. Unknown fields are
   * skipped; a malformed chunk fails the call. Used by one call: grpc parses its messages one at a
   * time, in order.
   */
  static final class ChunkSink implements MethodDescriptor.Marshaller<Read.ResponseChunk> {
    private static final MethodDescriptor.Marshaller<Read.ResponseChunk> PROTO =
        ProtoUtils.marshaller(Read.ResponseChunk.getDefaultInstance());
    private static final byte[] NONE = new byte[0];

    private byte[] buf = NONE;
    private int size;
    volatile boolean tooLarge;

    /** The bytes of every chunk parsed so far, in order; the sink's array when it is full. */
    byte[] bytes() {
      return size == buf.length ? buf : Arrays.copyOf(buf, size);
    }

    @Override
    public InputStream stream(Read.ResponseChunk value) {
      return PROTO.stream(value);
    }

    @Override
    public Read.ResponseChunk parse(InputStream in) {
      int start = size;
      try {
        for (long tag = varint(in, true); tag != -1; tag = varint(in, true)) {
          int field = (int) (tag >>> 3);
          int type = (int) (tag & 7);
          if (field < 1 || tag > 0xFFFF_FFFFL) {
            throw new IOException("invalid tag " + tag);
          }
          switch (type) {
            case 0 -> varint(in, false);
            case 1 -> in.skipNBytes(8);
            case 2 -> {
              long len = varint(in, false);
              // the transport's streams know their length: no allocation for a length they lack
              if (len < 0 || len > MAX_ARRAY || (in instanceof KnownLength && len > in.available())) {
                throw new IOException("a field of " + len + " bytes in a message with " + in.available() + " left");
              }
              if (field == 1) {
                size = start; // a repeated field replaces the earlier one, as protobuf's parser does
                append(in, (int) len);
              } else {
                in.skipNBytes(len);
              }
            }
            case 5 -> in.skipNBytes(4);
            default -> throw new IOException("unsupported wire type " + type);
          }
        }
        return Read.ResponseChunk.getDefaultInstance();
      } catch (IOException e) {
        throw Status.INTERNAL.withDescription("invalid Read.ResponseChunk: " + e.getMessage())
            .withCause(e).asRuntimeException();
      }
    }

    private void append(InputStream in, int len) throws IOException {
      long end = (long) size + len;
      if (end > MAX_ARRAY) {
        tooLarge = true;
        buf = NONE;
        size = 0;
        throw new IOException("more than " + MAX_ARRAY + " bytes in all");
      }
      if (end > buf.length) {
        buf = Arrays.copyOf(buf, (int) Math.min(MAX_ARRAY, Math.max(end, 2L * buf.length)));
      }
      for (int at = size; at < end; ) {
        int n = in.read(buf, at, (int) end - at);
        if (n < 0) {
          throw new IOException("truncated field");
        }
        at += n;
      }
      size = (int) end;
    }

    /** A varint of at most 10 bytes; -1 at the end of the stream if {@code eofOk}. */
    private static long varint(InputStream in, boolean eofOk) throws IOException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int b = in.read();
        if (b < 0) {
          if (eofOk && shift == 0) {
            return -1;
          }
          throw new IOException("truncated varint");
        }
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw new IOException("varint longer than 10 bytes");
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
