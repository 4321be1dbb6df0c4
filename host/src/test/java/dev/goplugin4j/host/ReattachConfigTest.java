package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReattachConfigTest {

  @Test
  void jsonRoundTripKeepsEveryField() {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    ReattachConfig rc = new ReattachConfig("grpc", 3, NetAddress.unix("/tmp/d/plugin1"), "process", "1234",
        Map.of("start_time", "99", "socket_dir", "/tmp/d"), true, "QUJD", host.pem(), host.privateKeyPem(), false);
    ReattachConfig back = ReattachConfig.fromJson(rc.toJson());
    assertThat(back).isEqualTo(rc);
    assertThat(back.autoMtls()).isTrue();
  }

  @Test
  void jsonIsCompactSortsAttributesAndLeavesHtmlCharactersAlone() {
    ReattachConfig rc = new ReattachConfig("grpc", 2, NetAddress.unix("/tmp/a<b>&'c=\u00e9"), "container", "id\"1",
        Map.of("z", "1", "a", "x\ny"), false, "", "", "", true);
    assertThat(rc.toJson()).isEqualTo("{\"protocol\":\"grpc\",\"protocol_version\":2,\"network\":\"unix\","
        + "\"address\":\"/tmp/a<b>&'c=\u00e9\",\"runner_kind\":\"container\",\"runner_id\":\"id\\\"1\","
        + "\"runner_attributes\":{\"a\":\"x\\ny\",\"z\":\"1\"},\"multiplexed\":false,\"plugin_certificate\":\"\","
        + "\"host_certificate\":\"\",\"host_private_key\":\"\",\"test\":true}");
  }

  @Test
  void toStringNeverPrintsThePrivateKey() {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    ReattachConfig rc = new ReattachConfig("grpc", 1, NetAddress.unix("/tmp/x"), "process", "1",
        Map.of(), false, "", host.pem(), host.privateKeyPem(), false);
    assertThat(rc.toString()).doesNotContain("PRIVATE KEY").contains("autoMtls=true");
  }

  @Test
  void missingFieldIsNamed() {
    assertThatThrownBy(() -> ReattachConfig.fromJson("{\"protocol\":\"grpc\"}"))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining("protocol_version");
  }

  @Test
  void notJsonIsATypedError() {
    assertThatThrownBy(() -> ReattachConfig.fromJson("not json"))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining("invalid reattach config");
  }

  @Test
  void certificateAndKeyComeTogether() {
    assertThatThrownBy(() -> new ReattachConfig("grpc", 1, NetAddress.unix("/tmp/x"), "process", "1",
            Map.of(), false, "", "cert", "", false))
        .hasMessageContaining("together");
  }
}
