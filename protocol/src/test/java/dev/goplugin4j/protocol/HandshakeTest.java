package dev.goplugin4j.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HandshakeTest {

  @Test
  void parsesAllSevenFields() {
    Handshake h = Handshake.parse("1|3|unix|/tmp/plugin123|grpc|" + "A".repeat(60) + "|true\n");
    assertThat(h.coreVersion()).isEqualTo(1);
    assertThat(h.appVersion()).isEqualTo(3);
    assertThat(h.address()).isEqualTo(NetAddress.unix("/tmp/plugin123"));
    assertThat(h.protocol()).isEqualTo("grpc");
    assertThat(h.hasCertificate()).isTrue();
    assertThat(h.mux()).contains("true");
  }

  @Test
  void fourFieldsDefaultToNetrpcWithoutCertificate() {
    Handshake h = Handshake.parse("1|1|tcp|127.0.0.1:1234");
    assertThat(h.protocol()).isEqualTo(Handshake.NETRPC);
    assertThat(h.certificate()).isEmpty();
    assertThat(h.mux()).isEmpty();
  }

  @Test
  void shortCertificateFieldIsIgnoredAsGoPluginDoes() {
    Handshake h = Handshake.parse("1|1|unix|/s|grpc|abc");
    assertThat(h.hasCertificate()).isFalse();
  }

  @Test
  void formatsSixFieldsWithTrailingSeparatorWhenNoCertificate() {
    Handshake h = new Handshake(1, 2, NetAddress.unix("/tmp/s"), "grpc", "", Optional.empty());
    assertThat(h.format()).isEqualTo("1|2|unix|/tmp/s|grpc|");
  }

  @Test
  void formatThenParseRoundTrips() {
    Handshake h =
        new Handshake(1, 5, NetAddress.unix("/tmp/x/plugin1"), "grpc", "B".repeat(80), Optional.of("true"));
    assertThat(Handshake.parse(h.format())).isEqualTo(h);
  }

  @Test
  void fewerThanFourFieldsIsUnrecognizedMessageQuotingTheLine() {
    assertThatThrownBy(() -> Handshake.parse("hello from a chatty plugin"))
        .isInstanceOf(HandshakeException.class)
        .hasMessageContaining("unrecognized remote plugin message")
        .hasMessageContaining("hello from a chatty plugin");
  }

  @Test
  void nonIntegerVersionNamesTheField() {
    assertThatThrownBy(() -> Handshake.parse("x|1|unix|/s|grpc|"))
        .isInstanceOf(HandshakeException.class)
        .hasMessageContaining("core protocol version");
    assertThatThrownBy(() -> Handshake.parse("1|y|unix|/s|grpc|"))
        .isInstanceOf(HandshakeException.class)
        .hasMessageContaining("app protocol version");
  }

  @Test
  void unknownNetworkIsRejected() {
    assertThatThrownBy(() -> Handshake.parse("1|1|udp|/s|grpc|"))
        .isInstanceOf(HandshakeException.class)
        .hasMessageContaining("unknown address type \"udp\"");
  }

  @Test
  void coreVersionOtherThanOneSaysRecompile() {
    Handshake h = Handshake.parse("2|1|unix|/s|grpc|");
    assertThatThrownBy(h::checkCoreVersion)
        .isInstanceOf(HandshakeException.class)
        .hasMessageContaining("incompatible core API version")
        .hasMessageContaining("recompiled");
  }

  @Test
  void appVersionMustBeOneTheHostOffered() {
    Handshake h = Handshake.parse("1|4|unix|/s|grpc|");
    h.checkAppVersion(Set.of(4, 5));
    assertThatThrownBy(() -> h.checkAppVersion(Set.of(2, 1)))
        .isInstanceOf(IncompatibleVersionException.class)
        .hasMessageContaining("Plugin version: 4")
        .hasMessageContaining("[1, 2]")
        .satisfies(e -> {
          IncompatibleVersionException v = (IncompatibleVersionException) e;
          assertThat(v.pluginVersion()).isEqualTo(4);
          assertThat(v.hostVersions()).containsExactly(1, 2);
        });
  }

  @Test
  void netrpcIsRejectedWithAClearMessage() {
    Handshake h = Handshake.parse("1|1|unix|/s|netrpc|");
    assertThatThrownBy(h::checkGrpc)
        .isInstanceOf(HandshakeException.class)
        .hasMessageContaining("net/rpc")
        .hasMessageContaining("gRPC");
  }

  @Test
  void missingMuxFieldSaysThePluginsGoPluginIsTooOld() {
    Handshake h = Handshake.parse("1|1|unix|/s|grpc|");
    assertThatThrownBy(h::checkMultiplexSupported)
        .isInstanceOf(MultiplexingNotSupportedException.class)
        .hasMessageContaining("too old")
        .hasMessageContaining("v1.6");
  }

  @Test
  void muxFieldThatIsNotABooleanIsNamed() {
    Handshake h = Handshake.parse("1|1|unix|/s|grpc||maybe");
    assertThatThrownBy(h::checkMultiplexSupported)
        .isInstanceOf(MultiplexingNotSupportedException.class)
        .hasMessageContaining("\"maybe\"")
        .hasMessageContaining("not a boolean");
  }

  @Test
  void muxFieldAcceptsGoBooleans() {
    Handshake.parse("1|1|unix|/s|grpc||true").checkMultiplexSupported();
    Handshake.parse("1|1|unix|/s|grpc||T").checkMultiplexSupported();
    Handshake.parse("1|1|unix|/s|grpc||1").checkMultiplexSupported();
    assertThatThrownBy(() -> Handshake.parse("1|1|unix|/s|grpc||false").checkMultiplexSupported())
        .isInstanceOf(MultiplexingNotSupportedException.class)
        .hasMessageContaining("does not support the multiplexed");
  }

  @Test
  void negotiationPicksHighestCommonVersion() {
    assertThat(Handshake.negotiate(List.of(1, 2, 3), List.of(2, 3, 4))).isEqualTo(3);
  }

  @Test
  void negotiationFallsBackToPluginsLowestVersionWhenNothingIsCommon() {
    assertThat(Handshake.negotiate(List.of(7), List.of(2, 3))).isEqualTo(2);
    assertThat(Handshake.negotiate(List.of(), List.of(5, 4))).isEqualTo(4);
  }

  @Test
  void versionListSkipsInvalidEntriesLikeGoPlugin() {
    assertThat(Handshake.parseVersionList("1,x,3")).containsExactly(1, 3);
    assertThat(Handshake.parseVersionList("")).isEmpty();
    assertThat(Handshake.parseVersionList(null)).isEmpty();
  }

  @Test
  void lineIsTrimmedWithGosWhitespaceNotJavas() {
    // U+001F is whitespace to Java's strip() but not to Go's strings.TrimSpace: it stays.
    Handshake h = Handshake.parse("1|1|unix|/tmp/p|grpc|\u001F");
    assertThat(h.certificate()).isEqualTo("\u001F");
    assertThat(Handshake.parse(h.format())).isEqualTo(h);
    // U+00A0 and U+3000 are White_Space to Go (Java's strip() keeps U+00A0): trimmed.
    assertThat(Handshake.parse("\u00A0 1|1|unix|/tmp/p|grpc|\u3000\u0085\n").certificate()).isEmpty();
  }

  @Test
  void versionsAreAsciiIntegersAsGoAtoiReadsThem() {
    // Arabic-Indic digits: Integer.parseInt would take them, go-plugin's strconv.Atoi does not.
    assertThatThrownBy(() -> Handshake.parse("\u0661|1|unix|/tmp/p|grpc|"))
        .isInstanceOf(HandshakeException.class).hasMessageContaining("not an integer");
    assertThat(Handshake.parse("+1|-2|unix|/tmp/p|grpc|").appVersion()).isEqualTo(-2);
  }
}
