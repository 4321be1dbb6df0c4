package dev.goplugin4j.container.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.container.AddressOutsideSocketDirException;
import dev.goplugin4j.protocol.NetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocketDirTranslatorTest {
  @TempDir Path dir;

  @Test
  void translatesSocketsDirectlyInsideTheDirectoryBothWays() {
    SocketDirTranslator t = new SocketDirTranslator(dir);
    assertThat(t.pluginToHost(NetAddress.unix("/tmp/go-plugin-container/plugin123")))
        .isEqualTo(NetAddress.unix(dir.resolve("plugin123").toString()));
    assertThat(t.hostToPlugin(NetAddress.unix(dir.resolve("broker7").toString())))
        .isEqualTo(NetAddress.unix("/tmp/go-plugin-container/broker7"));
  }

  @Test
  void rejectsOtherDirectoriesDotDotNestingAndTcp() {
    SocketDirTranslator t = new SocketDirTranslator(dir);
    for (String bad : new String[] {"/tmp/plugin1", "/tmp/go-plugin-container/../x",
        "/tmp/go-plugin-container/a/b", "/tmp/go-plugin-container/", "/tmp/go-plugin-container/..",
        "/tmp/go-plugin-containerX/p"}) {
      assertThatThrownBy(() -> t.pluginToHost(NetAddress.unix(bad)))
          .as(bad).isInstanceOf(AddressOutsideSocketDirException.class);
    }
    assertThatThrownBy(() -> t.pluginToHost(NetAddress.tcp("127.0.0.1:1234")))
        .isInstanceOf(AddressOutsideSocketDirException.class).hasMessageContaining("Unix");
    assertThatThrownBy(() -> t.hostToPlugin(NetAddress.unix("/var/run/docker.sock")))
        .isInstanceOf(AddressOutsideSocketDirException.class)
        .hasMessageContaining(dir.toString());
  }

  @Test
  void rejectsSymlinksAndRegularFiles() throws Exception {
    Files.createSymbolicLink(dir.resolve("evil"), Path.of("/var/run/docker.sock"));
    Files.writeString(dir.resolve("file"), "x");
    SocketDirTranslator t = new SocketDirTranslator(dir);
    assertThatThrownBy(() -> t.pluginToHost(NetAddress.unix("/tmp/go-plugin-container/evil")))
        .isInstanceOf(AddressOutsideSocketDirException.class).hasMessageContaining("symbolic");
    assertThatThrownBy(() -> t.hostToPlugin(NetAddress.unix(dir.resolve("evil").toString())))
        .isInstanceOf(AddressOutsideSocketDirException.class).hasMessageContaining("symbolic");
    assertThatThrownBy(() -> t.pluginToHost(NetAddress.unix("/tmp/go-plugin-container/file")))
        .isInstanceOf(AddressOutsideSocketDirException.class).hasMessageContaining("not a Unix");
    Files.delete(dir.resolve("evil"));
  }
}
