package dev.goplugin4j.server.internal.serve;

import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNegotiator;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSessionContext;

/**
 * The main server's TLS context while the real one is still being made, so that the server can be
 * built and bound beside the TLS set-up (key pair, certificate, JDK TLS) and only the handshake
 * line waits for both. Everything that touches a connection ({@link #newEngine}, the cipher
 * suites, the session context) is the finished context's; grpc's server builder asks only
 * {@link #isClient()} and {@link #applicationProtocolNegotiator()} when it is given the context,
 * and gets the answers the finished one will give (a server context offering {@code h2}).
 *
 * <p>No host connects before the handshake line, which is printed after the context exists; a
 * connection that came earlier (another process of the user's that found the socket) waits on
 * its event loop for the set-up, and fails if the set-up failed, as the whole start then does.
 * Thread-safe.
 */
@SuppressWarnings("deprecation") // ApplicationProtocolNegotiator: SslContext's own abstract method
final class DeferredSslContext extends SslContext {
  private static final ApplicationProtocolNegotiator H2 = () -> List.of("h2");

  private final CompletableFuture<SslContext> context;

  /** @param context completes with the server's TLS context, or fails with the set-up */
  DeferredSslContext(CompletableFuture<SslContext> context) {
    this.context = context;
  }

  private SslContext context() {
    return context.join();
  }

  @Override
  public boolean isClient() {
    return false;
  }

  @Override
  public List<String> cipherSuites() {
    return context().cipherSuites();
  }

  @Override
  public ApplicationProtocolNegotiator applicationProtocolNegotiator() {
    SslContext done = context.getNow(null);
    return done != null ? done.applicationProtocolNegotiator() : H2;
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc) {
    return context().newEngine(alloc);
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
    return context().newEngine(alloc, peerHost, peerPort);
  }

  @Override
  public SSLSessionContext sessionContext() {
    return context().sessionContext();
  }
}
