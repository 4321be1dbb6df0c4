package dev.goplugin4j.server.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SelfSignedCertificateTest {
  @Test
  void hasGoPluginsAutoMtlsParameters() throws Exception {
    SelfSignedCertificate c = SelfSignedCertificate.generate();
    X509Certificate x = c.certificate();
    x.verify(x.getPublicKey());
    assertThat(x.getVersion()).isEqualTo(3);
    assertThat(x.getSigAlgName()).isEqualTo("SHA512withECDSA");
    assertThat(((ECPublicKey) x.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(521);
    assertThat(x.getSubjectX500Principal().getName()).isEqualTo("CN=localhost,O=HashiCorp");
    assertThat(x.getIssuerX500Principal()).isEqualTo(x.getSubjectX500Principal());
    assertThat(x.getSubjectAlternativeNames()).containsExactly(List.of(2, "localhost"));
    // digitalSignature, keyEncipherment, keyAgreement, keyCertSign
    assertThat(x.getKeyUsage()).startsWith(true, false, true, false, true, true);
    assertThat(x.getCriticalExtensionOIDs()).contains("2.5.29.15", "2.5.29.19");
    assertThat(x.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1");
    assertThat(x.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
    assertThat(x.getSerialNumber().signum()).isPositive();
    assertThat(x.getSerialNumber().bitLength()).isLessThanOrEqualTo(128);
    Instant now = Instant.now();
    assertThat(x.getNotBefore().toInstant()).isBetween(now.minusSeconds(35), now.minusSeconds(25));
    assertThat(Duration.between(now, x.getNotAfter().toInstant()).toHours()).isBetween(262_979L, 262_980L);
  }

  @Test
  void theHandshakeFieldIsUnpaddedBase64DerThatTheProtocolModuleParses() {
    SelfSignedCertificate c = SelfSignedCertificate.generate();
    String field = c.base64Der();
    assertThat(field).doesNotContain("=").doesNotContain("\n");
    assertThat(AutoMtlsCertificate.parseBase64Der(field)).isEqualTo(c.certificate());
  }

  @Test
  void parsesTheHostsPemAndRejectsAnythingElse() throws Exception {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    assertThat(SelfSignedCertificate.parsePem(host.pem())).isEqualTo(host.certificate());
    SelfSignedCertificate own = SelfSignedCertificate.generate();
    assertThat(SelfSignedCertificate.parsePem(own.pem())).isEqualTo(own.certificate());
    assertThatThrownBy(() -> SelfSignedCertificate.parsePem("hello"))
        .isInstanceOf(CertificateException.class);
  }
}
