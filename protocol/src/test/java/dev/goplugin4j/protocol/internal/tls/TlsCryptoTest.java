package dev.goplugin4j.protocol.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.tls.TlsCrypto.Path;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

class TlsCryptoTest {
  private final Logger log = (Logger) LoggerFactory.getLogger("test.TlsCryptoTest");
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

  @BeforeEach
  void capture() {
    lines.start();
    log.addAppender(lines);
    log.setLevel(Level.DEBUG);
  }

  @AfterEach
  void release() {
    log.detachAppender(lines);
  }

  private static TlsCrypto crypto(Path p) {
    return p == Path.NATIVE ? TlsCrypto.nativeCrypto() : TlsCrypto.jdk();
  }

  @Test
  void theJvmUsesTheNativePathByDefaultOnLinuxX8664() {
    assertThat(System.getProperty(TlsCrypto.PROPERTY)).isNull();
    assertThat(TlsCrypto.get().path()).isEqualTo(Path.NATIVE);
    assertThat(TlsCrypto.get()).isSameAs(TlsCrypto.get());
  }

  @Test
  void aKeyFromTheJdkIsImportedIntoAccpOnTheNativePathAndHandshakesThere() throws SSLException {
    TlsCrypto n = TlsCrypto.nativeCrypto();
    AutoMtlsKeys.Made host = AutoMtlsKeys.generate(TlsCrypto.jdk());
    AutoMtlsKeys.Made plugin = AutoMtlsKeys.generate(n);

    java.security.PrivateKey imported = n.importKey(host.privateKey());

    assertThat(imported.getClass().getName()).startsWith("com.amazon.corretto.crypto.provider.");
    assertThat(imported).isNotSameAs(host.privateKey());
    assertThat(n.importKey(imported)).as("an ACCP key comes back as it is").isSameAs(imported);
    assertThat(TlsCrypto.jdk().importKey(host.privateKey())).isSameAs(host.privateKey());
    SslContext client = JdkTls.pinned(n, true, host.privateKey(), host.certificate(),
        plugin.certificate());
    SslContext server = JdkTls.pinned(TlsCrypto.jdk(), false, plugin.privateKey(),
        plugin.certificate(), host.certificate());
    assertThat(InMemoryHandshake.run(client, server).server().getSession().getPeerCertificates()[0])
        .isEqualTo(host.certificate());
  }

  @Test
  void nothingIsInstalledInTheJvmsProviderList() {
    List<String> before = Arrays.stream(Security.getProviders()).map(Provider::getName).toList();
    TlsCrypto n = TlsCrypto.nativeCrypto();
    AutoMtlsKeys.Made a = AutoMtlsKeys.generate(n);
    AutoMtlsKeys.Made b = AutoMtlsKeys.generate(n);
    JdkTls.pinned(n, true, a.privateKey(), a.certificate(), b.certificate());
    AutoMtlsCertificate.generate();
    assertThat(Arrays.stream(Security.getProviders()).map(Provider::getName).toList()).isEqualTo(before);
  }

  @Test
  void theNativePathMakesKeysAndSignaturesWithItsPrivateAccpInstance() {
    TlsCrypto n = TlsCrypto.nativeCrypto();
    assertThat(n.provider()).get().extracting(Provider::getName).isEqualTo("AmazonCorrettoCryptoProvider");
    assertThat(n.sha512WithEcdsa().getProvider().getName()).isEqualTo("AmazonCorrettoCryptoProvider");
    assertThat(TlsCrypto.jdk().provider()).isEmpty();
    assertThat(TlsCrypto.jdk().sha512WithEcdsa().getProvider().getName()).isEqualTo("SunEC");
  }

  @ParameterizedTest(name = "{0} key and certificate")
  @CsvSource({"NATIVE", "JDK"})
  void certificatesAreGoPluginsOnBothPaths(Path path) throws Exception {
    AutoMtlsKeys.Made m = AutoMtlsKeys.generate(crypto(path));
    var c = m.certificate();
    assertThat(c.getSigAlgName()).isEqualTo("SHA512withECDSA");
    assertThat(c.getSubjectX500Principal().getName()).isEqualTo("CN=localhost,O=HashiCorp");
    assertThat(c.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
    assertThat(c.getKeyUsage()).startsWith(true, false, true, false, true, true);
    assertThat(c.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1");
    assertThat(c.getSubjectAlternativeNames()).containsExactly(List.of(2, "localhost"));
    assertThat(((java.security.interfaces.ECPublicKey) c.getPublicKey()).getParams().getCurve()
        .getField().getFieldSize()).isEqualTo(521);
    c.verify(c.getPublicKey());
    assertThat(m.privateKey().getAlgorithm()).isEqualTo("EC");
  }

  @ParameterizedTest(name = "{0} client, {1} server")
  @CsvSource({"NATIVE, NATIVE", "JDK, JDK", "NATIVE, JDK", "JDK, NATIVE"})
  void aMutualP521HandshakeSucceedsOnEachPathAndAcrossPaths(Path clientPath, Path serverPath)
      throws SSLException {
    AutoMtlsKeys.Made host = AutoMtlsKeys.generate(crypto(clientPath));
    AutoMtlsKeys.Made plugin = AutoMtlsKeys.generate(crypto(serverPath));
    SslContext client = JdkTls.pinned(crypto(clientPath), true, host.privateKey(), host.certificate(),
        plugin.certificate());
    SslContext server = JdkTls.pinned(crypto(serverPath), false, plugin.privateKey(),
        plugin.certificate(), host.certificate());

    InMemoryHandshake.Done d = InMemoryHandshake.run(client, server);

    SSLSession cs = d.client().getSession();
    SSLSession ss = d.server().getSession();
    assertThat(cs.getProtocol()).isEqualTo("TLSv1.3");
    assertThat(cs.getPeerCertificates()[0]).isEqualTo(plugin.certificate());
    assertThat(ss.getPeerCertificates()[0]).isEqualTo(host.certificate());
    assertThat(d.client().getApplicationProtocol()).isEqualTo("h2");
    assertThat(d.client().getClass().getName() + " " + cs.getClass().getName())
        .contains(clientPath == Path.NATIVE ? "bouncycastle" : "sun.security.ssl");
  }

  @ParameterizedTest(name = "{0} client, {1} server")
  @CsvSource({"NATIVE, NATIVE", "JDK, JDK", "NATIVE, JDK", "JDK, NATIVE"})
  void aPeerWithAnotherCertificateIsRefusedOnEachPath(Path clientPath, Path serverPath) {
    AutoMtlsKeys.Made host = AutoMtlsKeys.generate(crypto(clientPath));
    AutoMtlsKeys.Made plugin = AutoMtlsKeys.generate(crypto(serverPath));
    AutoMtlsKeys.Made impostor = AutoMtlsKeys.generate(crypto(serverPath));
    SslContext client = JdkTls.pinned(crypto(clientPath), true, host.privateKey(), host.certificate(),
        plugin.certificate());
    SslContext server = JdkTls.pinned(crypto(serverPath), false, impostor.privateKey(),
        impostor.certificate(), host.certificate());

    assertThatThrownBy(() -> InMemoryHandshake.run(client, server))
        .isInstanceOf(SSLException.class)
        .satisfies(e -> assertThat(causes(e)).contains("is not the one it announced for AutoMTLS"));
  }

  @ParameterizedTest(name = "{0} server")
  @CsvSource({"NATIVE", "JDK"})
  void theServerRefusesAClientWithAnotherCertificate(Path path) {
    AutoMtlsKeys.Made host = AutoMtlsKeys.generate(crypto(path));
    AutoMtlsKeys.Made other = AutoMtlsKeys.generate(crypto(path));
    AutoMtlsKeys.Made plugin = AutoMtlsKeys.generate(crypto(path));
    SslContext client = JdkTls.pinned(crypto(path), true, other.privateKey(), other.certificate(),
        plugin.certificate());
    SslContext server = JdkTls.pinned(crypto(path), false, plugin.privateKey(), plugin.certificate(),
        host.certificate());

    assertThatThrownBy(() -> InMemoryHandshake.run(client, server)).isInstanceOf(SSLException.class);
  }

  @Test
  void aKeyRestoredFromPemHandshakesOnTheNativePath() throws SSLException {
    AutoMtlsCertificate made = AutoMtlsCertificate.generate();
    AutoMtlsCertificate restored = AutoMtlsCertificate.fromPem(made.pem(), made.privateKeyPem());
    AutoMtlsKeys.Made plugin = AutoMtlsKeys.generate(TlsCrypto.nativeCrypto());
    SslContext client = JdkTls.pinned(TlsCrypto.nativeCrypto(), true, restored.privateKey(),
        restored.certificate(), plugin.certificate());
    SslContext server = JdkTls.pinned(TlsCrypto.nativeCrypto(), false, plugin.privateKey(),
        plugin.certificate(), made.certificate());

    assertThat(InMemoryHandshake.run(client, server).server().getSession().getPeerCertificates()[0])
        .isEqualTo(made.certificate());
  }

  @Test
  void autoChoosesNativeAndLogsNothingWhenItLoads() {
    TlsCrypto n = TlsCrypto.nativeCrypto();
    assertThat(TlsCrypto.choose(null, () -> n, log)).isSameAs(n);
    assertThat(TlsCrypto.choose("auto", () -> n, log)).isSameAs(n);
    assertThat(TlsCrypto.choose(" Native ", () -> n, log)).isSameAs(n);
    assertThat(lines.list).isEmpty();
  }

  @Test
  void autoFallsBackToTheJdkWithOneInfoLineSayingWhyAndWhatItCosts() {
    TlsCrypto chosen = TlsCrypto.choose("auto", () -> {
      throw new UnsatisfiedLinkError("simulated: no native library for this CPU");
    }, log);

    assertThat(chosen.path()).isEqualTo(Path.JDK);
    assertThat(lines.list).hasSize(1);
    ILoggingEvent line = lines.list.get(0);
    assertThat(line.getLevel()).isEqualTo(Level.INFO);
    assertThat(line.getFormattedMessage())
        .contains("falls back to the JDK's crypto")
        .contains("UnsatisfiedLinkError: simulated: no native library for this CPU")
        .contains("5x the CPU per TLS handshake")
        .contains("goplugin4j.crypto=jdk")
        .doesNotContain("\n");
  }

  @Test
  void aMissingAccpClassAlsoFallsBack() {
    TlsCrypto chosen = TlsCrypto.choose("", () -> {
      throw new NoClassDefFoundError("com/amazon/corretto/crypto/provider/AmazonCorrettoCryptoProvider");
    }, log);

    assertThat(chosen.path()).isEqualTo(Path.JDK);
    assertThat(lines.list).singleElement().extracting(ILoggingEvent::getLevel).isEqualTo(Level.INFO);
  }

  @Test
  void theJdkSettingChoosesTheJdkWithoutTryingNativeAndSaysSoOnce() {
    TlsCrypto chosen = TlsCrypto.choose("jdk", () -> {
      throw new AssertionError("the native path must not be tried");
    }, log);

    assertThat(chosen.path()).isEqualTo(Path.JDK);
    assertThat(lines.list).singleElement().satisfies(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.INFO);
      assertThat(e.getFormattedMessage()).contains("goplugin4j.crypto=jdk asks").contains("5x");
    });
  }

  @Test
  void theNativeSettingFailsWithAFixWhenNativeCannotLoad() {
    assertThatThrownBy(() -> TlsCrypto.choose("native", () -> {
      throw new IllegalStateException("simulated: noexec temp dir");
    }, log))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining("goplugin4j.crypto=native requires")
        .hasMessageContaining("simulated: noexec temp dir")
        .hasMessageContaining("docs/tls.md");
    assertThat(lines.list).isEmpty();
  }

  @Test
  void anUnknownSettingIsRefused() {
    assertThatThrownBy(() -> TlsCrypto.choose("fast", TlsCrypto::nativeCrypto, log))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining("unknown value 'fast'")
        .hasMessageContaining("auto (the default), native or jdk");
  }

  private static String causes(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (; t != null; t = t.getCause()) {
      sb.append(t).append(" | ");
    }
    return sb.toString();
  }
}
