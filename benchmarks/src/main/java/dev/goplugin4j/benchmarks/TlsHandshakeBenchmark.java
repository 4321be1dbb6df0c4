package dev.goplugin4j.benchmarks;

import dev.goplugin4j.protocol.internal.tls.AutoMtlsKeys;
import dev.goplugin4j.protocol.internal.tls.InMemoryHandshake;
import dev.goplugin4j.protocol.internal.tls.JdkTls;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import dev.goplugin4j.protocol.internal.tls.TlsCrypto;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Where the Java side of an AutoMTLS handshake spends its time: one full TLS handshake (no
 * resumption) between two in-memory {@link SSLEngine}s holding go-plugin's P-521 AutoMTLS
 * certificates, both sides in this thread, no sockets; and the key pair plus self-signed
 * certificate each side makes once per plugin start. Not part of {@code scripts/bench.sh}'s groups;
 * run it with {@code java -cp ... org.openjdk.jmh.Main TlsHandshakeBenchmark}.
 *
 * <p>Parameters:
 *
 * <ul>
 *   <li>{@code crypto}: {@code native} is the shipped default (BouncyCastle JSSE whose crypto is a
 *       private Amazon Corretto Crypto Provider instance; key pair and signature from it too);
 *       {@code jdk} is the fallback (SunJSSE + SunEC), what a JVM gets where ACCP cannot load or
 *       with {@code -Dgoplugin4j.crypto=jdk}. Neither changes the JVM's provider list.
 * </ul>
 *
 * <p>Both sides use the {@link JdkTls} AutoMTLS contexts as shipped (trusting exactly the peer's
 * certificate), wrapped in grpc-netty-shaded's {@code JdkSslContext} as gRPC uses them. Figures:
 * docs/tls.md.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TlsHandshakeBenchmark {
  /** Which crypto path: {@code native} (shipped default) or {@code jdk} (fallback). */
  @Param({"native", "jdk"})
  public String crypto;

  private TlsCrypto path;
  private SslContext server;
  private SslContext client;
  private int port;

  /** Makes both certificates and contexts on the chosen path. */
  @Setup(Level.Trial)
  public void setUp() {
    path = "native".equals(crypto) ? TlsCrypto.nativeCrypto() : TlsCrypto.jdk();
    AutoMtlsKeys.Made host = AutoMtlsKeys.generate(path);
    AutoMtlsKeys.Made plugin = AutoMtlsKeys.generate(path);
    server = JdkTls.pinned(path, false, host.privateKey(), host.certificate(), plugin.certificate());
    client = JdkTls.pinned(path, true, plugin.privateKey(), plugin.certificate(), host.certificate());
  }

  /** One P-521 key pair and its self-signed AutoMTLS certificate, as each side makes at start. */
  @Benchmark
  public X509Certificate keyPairAndCertificate() {
    return AutoMtlsKeys.generate(path).certificate();
  }

  /** One full mutual-TLS handshake, both sides; returns the negotiated suite. */
  @Benchmark
  public String handshake() throws SSLException {
    // A new peer port each time: the client's session cache never offers resumption.
    port = port % 60_000 + 1;
    SSLEngine c = client.newEngine(ByteBufAllocator.DEFAULT, TlsContexts.AUTHORITY, port);
    SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
    SSLParameters p = c.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
    c.setSSLParameters(p);
    InMemoryHandshake.run(c, s);
    String suite = c.getSession().getProtocol() + " " + c.getSession().getCipherSuite();
    c.getSession().invalidate();
    return suite;
  }
}
