package dev.goplugin4j.benchmarks;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Where the Java side of an AutoMTLS handshake spends its time: one full TLS handshake (no
 * resumption) between two in-memory JDK {@link SSLEngine}s holding go-plugin's P-521 AutoMTLS
 * certificates, both sides in this thread, no sockets. Not part of {@code scripts/bench.sh}'s
 * groups; run it with {@code java -cp ... org.openjdk.jmh.Main TlsHandshakeBenchmark}.
 *
 * <p>Parameters:
 *
 * <ul>
 *   <li>{@code trust}: {@code pkix} is the host's {@link TlsContexts} as shipped (Netty's PKIX
 *       trust manager over the one pinned certificate); {@code pinned} swaps in a trust manager
 *       that only compares the leaf's DER with the pinned certificate and checks its validity (what
 *       the plugin SDK's {@code PluginTls} does), to show what PKIX costs per handshake.
 *   <li>{@code signatures}: {@code SunEC} is the JDK as it comes; {@code BC} puts BouncyCastle
 *       first in this fork's provider list so that JSSE's ECDSA signing and verifying run on it
 *       (an experiment only: goplugin4j never changes the global provider list).
 * </ul>
 *
 * <p>Measured on the 2-core development machine (JDK 17, under load): {@code pkix} and {@code
 * pinned} are equal within noise; P-521 ECDSA is nearly all of the time, see the commit that added
 * this class.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TlsHandshakeBenchmark {
  /** The host's trust set-up ({@code pkix}) or an exact DER match ({@code pinned}). */
  @Param({"pkix", "pinned"})
  public String trust;

  /** Which provider JSSE finds first for ECDSA: {@code SunEC} (default) or {@code BC}. */
  @Param({"SunEC", "BC"})
  public String signatures;

  private SslContext server;
  private SslContext client;
  private SSLContext serverJdk;
  private SSLContext clientJdk;
  private int port;

  /** Makes both certificates and contexts; with {@code BC}, registers BouncyCastle first. */
  @Setup(Level.Trial)
  public void setUp() throws GeneralSecurityException, java.io.IOException {
    if ("BC".equals(signatures)) {
      Security.insertProviderAt(new BouncyCastleProvider(), 1);
    }
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    AutoMtlsCertificate plugin = AutoMtlsCertificate.generate();
    if ("pkix".equals(trust)) {
      server = TlsContexts.server(host, plugin.certificate());
      client = TlsContexts.client(plugin, host.certificate());
    } else {
      serverJdk = pinnedContext(host, plugin.certificate());
      clientJdk = pinnedContext(plugin, host.certificate());
    }
  }

  /** Removes BouncyCastle again, so later trials in this fork see the JDK's own list. */
  @TearDown(Level.Trial)
  public void tearDown() {
    Provider bc = Security.getProvider(BouncyCastleProvider.PROVIDER_NAME);
    if (bc != null) {
      Security.removeProvider(bc.getName());
    }
  }

  /** One full mutual-TLS handshake, both sides; returns the negotiated suite. */
  @Benchmark
  public String handshake() throws SSLException {
    // A new peer port each time: the client's session cache never offers resumption.
    port = port % 60_000 + 1;
    SSLEngine c;
    SSLEngine s;
    if (client != null) {
      c = client.newEngine(ByteBufAllocator.DEFAULT, TlsContexts.AUTHORITY, port);
      s = server.newEngine(ByteBufAllocator.DEFAULT);
    } else {
      c = clientJdk.createSSLEngine(TlsContexts.AUTHORITY, port);
      c.setUseClientMode(true);
      s = serverJdk.createSSLEngine();
      s.setUseClientMode(false);
      s.setNeedClientAuth(true);
    }
    SSLParameters p = c.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
    c.setSSLParameters(p);
    String suite = run(c, s);
    c.getSession().invalidate();
    return suite;
  }

  private static String run(SSLEngine c, SSLEngine s) throws SSLException {
    ByteBuffer c2s = ByteBuffer.allocate(1 << 16);
    ByteBuffer s2c = ByteBuffer.allocate(1 << 16);
    ByteBuffer app = ByteBuffer.allocate(1 << 16);
    c.beginHandshake();
    s.beginHandshake();
    for (int round = 0; round < 100; round++) {
      step(c, c2s, s2c, app);
      step(s, s2c, c2s, app);
      if (c.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
          && s.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
          && c2s.position() == 0
          && s2c.position() == 0) {
        return c.getSession().getProtocol() + " " + c.getSession().getCipherSuite();
      }
    }
    throw new IllegalStateException("the handshake did not finish in 100 rounds: client "
        + c.getHandshakeStatus() + ", server " + s.getHandshakeStatus());
  }

  /** Runs tasks, wraps into {@code out} and unwraps from {@code in} until the engine stalls. */
  private static void step(SSLEngine e, ByteBuffer out, ByteBuffer in, ByteBuffer app)
      throws SSLException {
    ByteBuffer empty = ByteBuffer.allocate(0);
    boolean progress = true;
    while (progress) {
      progress = false;
      HandshakeStatus hs = e.getHandshakeStatus();
      if (hs == HandshakeStatus.NEED_TASK) {
        for (Runnable r = e.getDelegatedTask(); r != null; r = e.getDelegatedTask()) {
          r.run();
        }
        progress = true;
      } else if (hs == HandshakeStatus.NEED_WRAP) {
        SSLEngineResult r = e.wrap(empty, out);
        progress = r.bytesProduced() > 0 || r.getHandshakeStatus() != HandshakeStatus.NEED_WRAP;
      } else {
        in.flip();
        if (in.hasRemaining()) {
          progress = e.unwrap(in, app).bytesConsumed() > 0;
        }
        in.compact();
        app.clear();
      }
    }
  }

  private static SSLContext pinnedContext(AutoMtlsCertificate own, X509Certificate peer)
      throws GeneralSecurityException, java.io.IOException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    char[] pw = "bench".toCharArray();
    // The key goes through a KeyFactory so that the key store accepts it as a JDK key.
    var key = KeyFactory.getInstance("EC").generatePrivate(
        new java.security.spec.PKCS8EncodedKeySpec(own.privateKey().getEncoded()));
    ks.setKeyEntry("own", key, pw, new X509Certificate[] {own.certificate()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
    kmf.init(ks, pw);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), new TrustManager[] {new Pinned(peer)}, null);
    return ctx;
  }

  /** Accepts exactly one certificate (DER-equal leaf, within its validity). */
  private static final class Pinned extends X509ExtendedTrustManager {
    private final X509Certificate peer;
    private final byte[] der;

    Pinned(X509Certificate peer) throws CertificateException {
      this.peer = peer;
      this.der = peer.getEncoded();
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0 || !Arrays.equals(chain[0].getEncoded(), der)) {
        throw new CertificateException("not the pinned certificate");
      }
      peer.checkValidity();
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[] {peer};
    }
  }
}
