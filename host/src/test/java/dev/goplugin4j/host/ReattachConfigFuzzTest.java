package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Coverage-guided fuzzing (Jazzer) of {@link ReattachConfig#fromJson(String)}: a reattach config
 * is a file a user (or anyone who can write where it is kept) may have edited. For any text:
 *
 * <ul>
 *   <li>{@code fromJson} returns a config or throws {@link PluginException}, as documented;
 *       nothing else (no {@code ClassCastException}, {@code NullPointerException}, ...);
 *   <li>an accepted config round trips: {@code fromJson(c.toJson())} equals {@code c}, and {@code
 *       toJson()} of that is the same text;
 *   <li>{@code toString()} never prints the host's private key.
 * </ul>
 *
 * <p>The other direction is fuzzed too: a config built from fuzzed fields survives {@code toJson}
 * and {@code fromJson} unchanged.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/goplugin4j/host/ReattachConfigFuzzTestInputs/
 * fromJson/}. The host module's {@code jazzer-fuzz-reattach} execution fuzzes for {@code
 * maxDuration}; see docs/security.md for the long run.
 */
class ReattachConfigFuzzTest {
  @FuzzTest(maxDuration = "5s")
  void fromJson(FuzzedDataProvider data) {
    if (data.consumeBoolean()) {
      buildWriteRead(data);
      return;
    }
    String json = data.consumeRemainingAsString();
    ReattachConfig c;
    try {
      c = ReattachConfig.fromJson(json);
    } catch (PluginException e) {
      assertThat(e.getMessage()).isNotEmpty();
      return;
    }
    String written = c.toJson();
    ReattachConfig again = ReattachConfig.fromJson(written);
    assertThat(again).isEqualTo(c);
    assertThat(again.toJson()).isEqualTo(written);
    checkToString(c);
  }

  private static void buildWriteRead(FuzzedDataProvider data) {
    boolean mtls = data.consumeBoolean();
    String key = mtls ? "-----BEGIN PRIVATE KEY-----" + data.consumeString(64) : "";
    Map<String, String> attrs = new TreeMap<>();
    int n = data.consumeInt(0, 4);
    for (int i = 0; i < n; i++) {
      attrs.put(data.consumeString(16), data.consumeString(32));
    }
    ReattachConfig c;
    try {
      c = new ReattachConfig(
          data.consumeString(16),
          data.consumeInt(0, Integer.MAX_VALUE),
          new NetAddress(data.consumeBoolean() ? NetAddress.UNIX : NetAddress.TCP,
              nonEmpty(data.consumeString(64))),
          nonEmpty(data.consumeString(16)),
          nonEmpty(data.consumeString(32)),
          attrs,
          data.consumeBoolean(),
          data.consumeString(64),
          mtls ? "-----BEGIN CERTIFICATE-----" + data.consumeString(64) : "",
          key,
          data.consumeBoolean());
    } catch (IllegalArgumentException e) {
      return; // the record's own validation, not under test here
    }
    assertThat(ReattachConfig.fromJson(c.toJson())).isEqualTo(c);
    checkToString(c);
  }

  private static String nonEmpty(String s) {
    return s.isEmpty() ? "x" : s;
  }

  private static void checkToString(ReattachConfig c) {
    String key = c.hostPrivateKey();
    if (key.length() >= 16) {
      String others = c.protocol() + c.address() + c.runnerKind() + c.runnerId()
          + c.runnerAttributes() + c.pluginCertificate() + c.hostCertificate();
      if (!others.contains(key)) {
        assertThat(c.toString()).as("toString").doesNotContain(key);
      }
    }
  }
}
