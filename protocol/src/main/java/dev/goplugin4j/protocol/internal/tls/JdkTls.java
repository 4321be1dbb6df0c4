package dev.goplugin4j.protocol.internal.tls;

import dev.goplugin4j.protocol.PluginException;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2SecurityUtil;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolConfig;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNames;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.JdkSslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.interfaces.ECKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Netty TLS contexts on a plain {@link SSLContext} with gRPC's settings (HTTP/2 cipher suites,
 * ALPN "h2", TLS 1.3 and 1.2, client certificate required by the server), shared by the host and
 * the plugin SDK. AutoMTLS contexts ({@link #pinned}) run on the JVM's {@link TlsCrypto} path:
 * native by default (BouncyCastle JSSE whose crypto is a private Amazon Corretto Crypto Provider
 * instance), the JDK's SunJSSE where that cannot load. User-supplied managers ({@link #of}) always
 * run on SunJSSE, whose trust managers they usually are.
 *
 * <p>Why not Netty's {@code SslContextBuilder.keyManager(key, cert)}: it puts the key through a
 * PKCS#12 key store (PBKDF2 key derivation, written and read back) on every context, several ms
 * of each plugin start on the host and about 250 ms of a plugin's own start-up. Here the key
 * manager holds the one key, and for AutoMTLS the trust manager accepts exactly the peer's
 * certificate (byte for byte, within its validity), which is what go-plugin's one-certificate pool
 * amounts to; the TLS handshake itself proves the peer holds that certificate's key.
 */
public final class JdkTls {
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
  private static final String ALIAS = "plugin";

  private JdkTls() {}

  /**
   * An AutoMTLS context on the JVM's crypto path ({@link TlsCrypto#get()}): present {@code cert}
   * with {@code key}, trust exactly {@code peer}.
   *
   * @param client true for the dialling side; the server side requires a client certificate
   * @param key this side's private key (from either path's provider)
   * @param cert this side's certificate
   * @param peer the one certificate the peer must present
   * @return a new context; thread-safe
   * @throws PluginException if the TLS provider refuses the key or {@code goplugin4j.crypto} is
   *     set to a path that cannot load
   */
  public static SslContext pinned(boolean client, PrivateKey key, X509Certificate cert, X509Certificate peer) {
    return pinned(TlsCrypto.get(), client, key, cert, peer);
  }

  /**
   * An AutoMTLS context on the given crypto path, as {@link #pinned(boolean, PrivateKey,
   * X509Certificate, X509Certificate)}: for tests and benchmarks that compare the paths.
   *
   * @param crypto which path; not null
   * @param client true for the dialling side; the server side requires a client certificate
   * @param key this side's private key (from either path's provider; imported into the native
   *     path's provider there, see {@link TlsCrypto#importKey})
   * @param cert this side's certificate
   * @param peer the one certificate the peer must present
   * @return a new context; thread-safe
   * @throws PluginException if the TLS provider refuses the key
   */
  public static SslContext pinned(
      TlsCrypto crypto, boolean client, PrivateKey key, X509Certificate cert, X509Certificate peer) {
    return wrap(crypto.sslContext(new KeyManager[] {new OneKey(crypto.importKey(key), cert)},
        new TrustManager[] {new OnePeer(peer)}), client);
  }

  /**
   * A context from user-supplied key and trust managers, always on the JDK's SunJSSE.
   *
   * @param client true for the dialling side; the server side requires a client certificate
   * @param keys what this side presents
   * @param trust which peers it trusts
   * @return a new context; thread-safe
   * @throws PluginException if SunJSSE refuses the managers
   */
  public static SslContext of(boolean client, KeyManager[] keys, TrustManager[] trust) {
    return wrap(TlsCrypto.jdk().sslContext(keys, trust), client);
  }

  private static SslContext wrap(SSLContext ctx, boolean client) {
    return new JdkSslContext(
        ctx,
        client,
        Http2SecurityUtil.CIPHERS,
        SupportedCipherSuiteFilter.INSTANCE,
        new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2),
        client ? ClientAuth.NONE : ClientAuth.REQUIRE,
        PROTOCOLS.clone(),
        false);
  }

  /** Presents one key and certificate, for whatever key type the handshake asks. */
  private static final class OneKey extends X509ExtendedKeyManager {
    private final PrivateKey key;
    private final X509Certificate cert;

    OneKey(PrivateKey key, X509Certificate cert) {
      this.key = key;
      this.cert = cert;
    }

    private String alias(String... keyTypes) {
      if (keyTypes == null) {
        return ALIAS;
      }
      for (String t : keyTypes) {
        if (t != null && (t.equals(key.getAlgorithm()) || t.startsWith(key.getAlgorithm() + "_")
            || t.equals("EC_EC") || isOurCurve(t))) {
          return ALIAS;
        }
      }
      return null;
    }

    /**
     * BouncyCastle's JSSE asks per signature scheme, for example {@code EC/secp521r1}: yes when
     * the key is on that curve (a P-521 key must not be offered for ecdsa_secp256r1_sha256).
     */
    private boolean isOurCurve(String keyType) {
      if (!keyType.startsWith("EC/") || !(key instanceof ECKey ec)) {
        return false;
      }
      String curve = keyType.substring(3);
      int bits = ec.getParams().getCurve().getField().getFieldSize();
      return curve.equals("secp" + bits + "r1");
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return alias(keyType) == null ? null : new String[] {ALIAS};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return alias(keyType);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return alias(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return alias(keyType) == null ? null : new String[] {ALIAS};
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return alias(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return alias(keyType);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return ALIAS.equals(alias) ? new X509Certificate[] {cert} : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return ALIAS.equals(alias) ? key : null;
    }
  }

  /** Trusts exactly one certificate: the peer must present it (and prove it holds its key). */
  private static final class OnePeer extends X509ExtendedTrustManager {
    private final X509Certificate peer;
    private final byte[] encoded;

    OnePeer(X509Certificate peer) {
      this.peer = peer;
      try {
        this.encoded = peer.getEncoded();
      } catch (CertificateException e) {
        throw new PluginException("cannot encode the peer certificate: " + e.getMessage(), e);
      }
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the peer presented no certificate");
      }
      if (!Arrays.equals(chain[0].getEncoded(), encoded)) {
        throw new CertificateException(
            "the peer's certificate (" + chain[0].getSubjectX500Principal() + ", serial "
                + chain[0].getSerialNumber().toString(16) + ") is not the one it announced for"
                + " AutoMTLS (serial " + peer.getSerialNumber().toString(16) + ")");
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
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[] {peer};
    }
  }
}
