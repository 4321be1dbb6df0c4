package dev.goplugin4j.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class AutoMtlsCertificateTest {

  @Test
  void certificateHasGoPluginsParameters() throws Exception {
    AutoMtlsCertificate c = AutoMtlsCertificate.generate();
    X509Certificate x = c.certificate();
    assertThat(x.getVersion()).isEqualTo(3);
    assertThat(x.getSigAlgName()).isEqualTo("SHA512withECDSA");
    assertThat(x.getSubjectX500Principal().getName()).isEqualTo("CN=localhost,O=HashiCorp");
    assertThat(x.getIssuerX500Principal()).isEqualTo(x.getSubjectX500Principal());
    assertThat(x.getCriticalExtensionOIDs()).containsExactlyInAnyOrder("2.5.29.15", "2.5.29.19");
    assertThat(x.getNonCriticalExtensionOIDs()).containsExactlyInAnyOrder("2.5.29.37", "2.5.29.17");
    assertThat(((ECPublicKey) x.getPublicKey()).getParams().getCurve().getField().getFieldSize())
        .isEqualTo(521);
    assertThat(x.getSubjectX500Principal().getName()).contains("CN=localhost").contains("O=HashiCorp");
    assertThat(x.getSubjectAlternativeNames()).containsExactly(List.of(2, "localhost"));
    assertThat(x.getExtendedKeyUsage())
        .containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    // digitalSignature, keyEncipherment, keyAgreement, keyCertSign
    boolean[] ku = x.getKeyUsage();
    assertThat(ku[0]).isTrue();
    assertThat(ku[2]).isTrue();
    assertThat(ku[4]).isTrue();
    assertThat(ku[5]).isTrue();
    assertThat(x.getBasicConstraints()).isGreaterThanOrEqualTo(0); // CA:true
    assertThat(x.getSerialNumber().bitLength()).isLessThanOrEqualTo(128);
    Instant now = Instant.now();
    assertThat(x.getNotBefore().toInstant()).isBetween(now.minusSeconds(40), now.minusSeconds(20));
    assertThat(Duration.between(now, x.getNotAfter().toInstant()).toHours()).isBetween(262_970L, 262_990L);
    x.verify(x.getPublicKey()); // self-signed
  }

  @Test
  void base64DerHasNoPaddingAndParsesBack() {
    AutoMtlsCertificate c = AutoMtlsCertificate.generate();
    String b64 = c.base64Der();
    assertThat(b64).doesNotContain("=").doesNotContain("\n");
    assertThat(AutoMtlsCertificate.parseBase64Der(b64)).isEqualTo(c.certificate());
  }

  @Test
  void pemParsesBack() {
    AutoMtlsCertificate c = AutoMtlsCertificate.generate();
    assertThat(c.pem()).startsWith("-----BEGIN CERTIFICATE-----\n").endsWith("\n-----END CERTIFICATE-----\n");
    assertThat(c.pem().lines()).allSatisfy(l -> assertThat(l.length()).isBetween(1, 64));
    assertThat(AutoMtlsCertificate.parsePem(c.pem())).isEqualTo(c.certificate());
  }

  @Test
  void keyPemRestoresTheSameKeyPair() {
    AutoMtlsCertificate c = AutoMtlsCertificate.generate();
    AutoMtlsCertificate back = AutoMtlsCertificate.fromPem(c.pem(), c.privateKeyPem());
    assertThat(back.certificate()).isEqualTo(c.certificate());
    assertThat(back.privateKey().getEncoded()).isEqualTo(c.privateKey().getEncoded());
  }

  @Test
  void garbageCertificateIsAHandshakeError() {
    assertThatThrownBy(() -> AutoMtlsCertificate.parseBase64Der("not base64 !!"))
        .isInstanceOf(HandshakeException.class)
        .hasMessageContaining("not base64");
    assertThatThrownBy(() -> AutoMtlsCertificate.parseBase64Der("QUJDRA"))
        .isInstanceOf(HandshakeException.class);
    assertThatThrownBy(() -> AutoMtlsCertificate.parsePem("hello"))
        .isInstanceOf(HandshakeException.class)
        .hasMessageContaining("BEGIN CERTIFICATE");
  }
}
