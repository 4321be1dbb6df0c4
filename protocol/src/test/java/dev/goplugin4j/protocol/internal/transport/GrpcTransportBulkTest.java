package dev.goplugin4j.protocol.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many large messages both ways through a channel and a server of {@link GrpcTransport} (their
 * 1 MiB write buffers fill and drain many times): every byte arrives, in order.
 */
class GrpcTransportBulkTest {
  private static final int MESSAGE = 64 * 1024;
  private static final int MESSAGES = 160; // 10 MiB each way

  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private static final MethodDescriptor<byte[], byte[]> ECHO =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
          .setFullMethodName("test.Bulk/Echo")
          .setRequestMarshaller(BYTES)
          .setResponseMarshaller(BYTES)
          .build();

  @TempDir Path dir;
  EventLoopGroup group;

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(2, "bulk-io");
  }

  @AfterEach
  void tearDown() {
    GrpcTransport.shutdown(group);
  }

  @Test
  void largeMessagesEchoBackWholeAndInOrderOverPlaintext() throws Exception {
    assertThat(echo(null, null)).isEqualTo(payload());
  }

  @Test
  void largeMessagesEchoBackWholeAndInOrderOverMutualTls() throws Exception {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    AutoMtlsCertificate plugin = AutoMtlsCertificate.generate();
    assertThat(echo(TlsContexts.server(plugin, host.certificate()), TlsContexts.client(host, plugin.certificate())))
        .isEqualTo(payload());
  }

  private static byte[] payload() {
    byte[] all = new byte[MESSAGE * MESSAGES];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) (i * 31 + (i >>> 16));
    }
    return all;
  }

  private byte[] echo(SslContext serverTls, SslContext clientTls) throws Exception {
    ServerServiceDefinition service = ServerServiceDefinition.builder("test.Bulk")
        .addMethod(ECHO, ServerCalls.asyncBidiStreamingCall(responses -> new StreamObserver<byte[]>() {
          @Override
          public void onNext(byte[] value) {
            responses.onNext(value);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            responses.onCompleted();
          }
        }))
        .build();
    NetAddress addr = NetAddress.unix(dir.resolve("bulk.sock").toString());
    Server server = GrpcTransport.server(addr, serverTls, group, group, List.of(service));
    ManagedChannel ch = GrpcTransport.channel(addr, clientTls, group, b -> b.directExecutor());
    try {
      byte[] all = payload();
      ByteArrayOutputStream back = new ByteArrayOutputStream();
      CompletableFuture<Status> closed = new CompletableFuture<>();
      ClientCall<byte[], byte[]> call = ch.newCall(ECHO, CallOptions.DEFAULT);
      int[] sent = {0};
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onMessage(byte[] message) {
          back.writeBytes(message);
          call.request(1);
        }

        @Override
        public void onReady() {
          sendWhileReady(call, all, sent);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.complete(status);
        }
      }, new Metadata());
      call.request(1);
      sendWhileReady(call, all, sent);
      assertThat(closed.get(30, TimeUnit.SECONDS).isOk()).isTrue();
      return back.toByteArray();
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Sends the next messages while the call is ready; half-closes after the last. */
  private static synchronized void sendWhileReady(ClientCall<byte[], byte[]> call, byte[] all, int[] sent) {
    while (sent[0] < MESSAGES && call.isReady()) {
      byte[] m = new byte[MESSAGE];
      System.arraycopy(all, sent[0] * MESSAGE, m, 0, MESSAGE);
      call.sendMessage(m);
      if (++sent[0] == MESSAGES) {
        call.halfClose();
      }
    }
  }
}
