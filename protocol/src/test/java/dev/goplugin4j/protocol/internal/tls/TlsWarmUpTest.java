package dev.goplugin4j.protocol.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;

class TlsWarmUpTest {

  @Test
  void runsOnceInAJvmAndThenReturnsAtOnce() {
    AutoMtlsCertificate own = AutoMtlsCertificate.generate();
    // no other test in this module warms up; the first caller runs it, every later one does not
    boolean first = TlsWarmUp.runOnce(own);
    assertThat(first).isTrue();
    assertThat(TlsWarmUp.pending()).isFalse();
    assertThat(TlsWarmUp.runOnce(own)).isFalse();
  }

  @Test
  void anInterruptedHandshakeStopsInsteadOfHoldingItsThread() {
    AutoMtlsCertificate own = AutoMtlsCertificate.generate();
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> InMemoryHandshake.run(
              TlsContexts.client(own, own.certificate()), TlsContexts.server(own, own.certificate())))
          .isInstanceOf(SSLException.class)
          .hasMessageContaining("interrupted");
    } finally {
      assertThat(Thread.interrupted()).as("the interrupt is kept for the caller").isTrue();
    }
  }

  @Test
  void theHandshakeItRunsCompletesWithBothSidesPinningTheSameCertificate() throws Exception {
    AutoMtlsCertificate own = AutoMtlsCertificate.generate();
    InMemoryHandshake.Done done = InMemoryHandshake.run(
        TlsContexts.client(own, own.certificate()), TlsContexts.server(own, own.certificate()));
    assertThat(done.server().getSession().getPeerCertificates()[0]).isEqualTo(own.certificate());
    assertThat(done.client().getSession().getPeerCertificates()[0]).isEqualTo(own.certificate());
  }
}
