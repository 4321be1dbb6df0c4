package dev.goplugin4j.server.internal.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.server.internal.tls.PluginTls;
import dev.goplugin4j.server.internal.tls.SelfSignedCertificate;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

class DeferredSslContextTest {
  private static SslContext realServerContext() {
    SelfSignedCertificate own = SelfSignedCertificate.generate();
    SelfSignedCertificate host = SelfSignedCertificate.generate();
    return PluginTls.server(own, host.certificate());
  }

  @Test
  @SuppressWarnings("deprecation")
  void grpcsServerBuilderTakesItBeforeTheRealContextExists() {
    DeferredSslContext deferred = new DeferredSslContext(new CompletableFuture<>());

    assertThat(deferred.isServer()).isTrue();
    assertThat(deferred.applicationProtocolNegotiator().protocols()).containsExactly("h2");
    // grpc checks for a server context offering h2 here; it must not wait for the set-up
    NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).sslContext(deferred);
  }

  @Test
  void anEngineIsTheFinishedContextsAndWaitsForIt() throws Exception {
    CompletableFuture<SslContext> future = new CompletableFuture<>();
    DeferredSslContext deferred = new DeferredSslContext(future);
    SslContext real = realServerContext();
    ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
    try {
      later.schedule(() -> future.complete(real), 200, TimeUnit.MILLISECONDS);

      SSLEngine engine = deferred.newEngine(ByteBufAllocator.DEFAULT);

      assertThat(future).isDone();
      assertThat(engine.getUseClientMode()).isFalse();
      assertThat(engine.getNeedClientAuth()).isEqualTo(real.newEngine(ByteBufAllocator.DEFAULT).getNeedClientAuth());
      assertThat(deferred.cipherSuites()).isEqualTo(real.cipherSuites());
      assertThat(deferred.sessionContext()).isSameAs(real.sessionContext());
    } finally {
      later.shutdownNow();
    }
  }

  @Test
  void aFailedSetUpFailsTheConnectionThatAsks() {
    CompletableFuture<SslContext> future = new CompletableFuture<>();
    future.completeExceptionally(new IllegalStateException("vault unreachable"));
    DeferredSslContext deferred = new DeferredSslContext(future);

    assertThatThrownBy(() -> deferred.newEngine(ByteBufAllocator.DEFAULT))
        .isInstanceOf(CompletionException.class)
        .hasRootCauseMessage("vault unreachable");
  }
}
