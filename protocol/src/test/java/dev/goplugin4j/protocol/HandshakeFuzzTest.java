package dev.goplugin4j.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing (Jazzer) of {@link Handshake#parse(String)}, the first thing a host reads
 * from a plugin it may not trust. For any line, parse must
 *
 * <ul>
 *   <li>either return a handshake or throw {@link HandshakeException}, nothing else (the checks
 *       that follow, {@code checkCoreVersion}, {@code checkAppVersion}, {@code checkGrpc} and
 *       {@code checkMultiplexSupported}, likewise);
 *   <li>accept a version field only when go-plugin's {@code strconv.Atoi} would: ASCII digits with
 *       an optional sign (never other Unicode digits), and a network only when it is {@code unix}
 *       or {@code tcp}, with a non-empty address;
 *   <li>round trip: {@code parse(h.format())} equals {@code h}, and {@code format()} of that is
 *       the same text again;
 *   <li>never fail with an empty message.
 * </ul>
 *
 * <p>Its first runs found two differences from go-plugin, both fixed in {@code Handshake.parse}
 * (see docs/security.md): the line was trimmed with Java's idea of whitespace ({@code
 * String.strip}, which takes U+001C..U+001F and leaves U+00A0), not Go's ({@code
 * strings.TrimSpace}), and versions were read with {@code Integer.parseInt}, which takes non-ASCII
 * decimal digits (such as {@code ١}) that Go's {@code strconv.Atoi} refuses. The target now holds
 * parse to Go's rules: the round trip is checked for every line that Go's trimming leaves alone.
 *
 * <p>The other direction is fuzzed too: a handshake built from fuzzed fields (as a plugin would
 * print it) formats to a line that parses back to the same handshake.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/goplugin4j/protocol/HandshakeFuzzTestInputs/
 * parse/}. The protocol module's {@code jazzer-fuzz-handshake} execution fuzzes for {@code
 * maxDuration}; see docs/security.md for the long run.
 */
class HandshakeFuzzTest {
  /** go-plugin's {@code strconv.Atoi}: ASCII digits, optional sign. */
  private static final Pattern GO_ATOI = Pattern.compile("[+-]?[0-9]+");

  @FuzzTest(maxDuration = "5s")
  void parse(FuzzedDataProvider data) {
    if (data.consumeBoolean()) {
      buildFormatParse(data);
    } else {
      parseLine(data.consumeRemainingAsString());
    }
  }

  private static void parseLine(String line) {
    Handshake h;
    try {
      h = Handshake.parse(line);
    } catch (HandshakeException e) {
      assertThat(e.getMessage()).as("error message").isNotEmpty();
      return;
    }
    String[] parts = Handshake.goTrimSpace(line).split("\\|", -1);
    assertThat(parts.length).isGreaterThanOrEqualTo(4);
    for (String version : List.of(parts[0], parts[1])) {
      assertThat(GO_ATOI.matcher(version).matches())
          .as("version field \"%s\" is an integer as go-plugin's strconv.Atoi reads it", version)
          .isTrue();
    }
    assertThat(h.address().network()).isIn(NetAddress.UNIX, NetAddress.TCP);
    assertThat(h.address().address()).isEqualTo(parts[3]).isNotEmpty();
    assertThat(h.protocol()).isNotEmpty().doesNotContain("|");
    assertThat(h.certificate()).doesNotContain("|");

    String formatted = h.format();
    if (!formatted.equals(Handshake.goTrimSpace(formatted))) {
      // a field at either end of the line ends in whitespace: go-plugin trims the line too
      return;
    }
    Handshake again = Handshake.parse(formatted);
    assertThat(again).as("parse(format()) of %s", h).isEqualTo(h);
    assertThat(again.format()).isEqualTo(formatted);
    runChecks(h);
  }

  /** A plugin's side: fields as a go-plugin server would print them. */
  private static void buildFormatParse(FuzzedDataProvider data) {
    int core = data.consumeInt();
    int app = data.consumeInt();
    String network = data.consumeBoolean() ? NetAddress.UNIX : NetAddress.TCP;
    String address = field(data, 1);
    String protocol = field(data, 1);
    String cert = field(data, 0);
    Optional<String> mux = data.consumeBoolean() ? Optional.of(field(data, 0)) : Optional.empty();
    String line = new Handshake(core, app, new NetAddress(network, address), protocol, cert, mux)
        .format();
    if (!line.equals(Handshake.goTrimSpace(line))) {
      // go-plugin trims the line as a whole: blanks at either end are not the plugin's fields
      return;
    }
    Handshake h = new Handshake(core, app, new NetAddress(network, address), protocol, cert, mux);
    assertThat(Handshake.parse(h.format())).isEqualTo(h);
    runChecks(h);
  }

  /** A non-empty (when min is 1) field without '|' and without a line break. */
  private static String field(FuzzedDataProvider data, int min) {
    String s = data.consumeString(200).replace("|", "").replace("\n", "").replace("\r", "");
    return s.length() >= min ? s : "x";
  }

  private static void runChecks(Handshake h) {
    h.hasCertificate();
    checkOnly(h::checkCoreVersion);
    checkOnly(() -> h.checkAppVersion(List.of(1, 2, 3)));
    checkOnly(h::checkGrpc);
    checkOnly(h::checkMultiplexSupported);
  }

  private static void checkOnly(Runnable check) {
    try {
      check.run();
    } catch (HandshakeException e) {
      assertThat(e.getMessage()).isNotEmpty();
    }
  }
}
