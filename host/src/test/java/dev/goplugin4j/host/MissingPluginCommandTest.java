package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A command that cannot run fails the start with its own reason, and leaves nothing behind. */
class MissingPluginCommandTest {

  @Test
  void aMissingExecutableFailsTheStartNamingItAndLeavesNoSocketDir(@TempDir Path tmp)
      throws Exception {
    Path missing = tmp.resolve("no-such-plugin");
    Path socketParent = Files.createDirectory(tmp.resolve("sockets"));
    PluginClient client =
        PluginClient.builder()
            .handshake(1, "BASIC_PLUGIN", "hello")
            .command(missing.toString())
            .unixSocketTempDir(socketParent)
            .plugin("kv", (channel, broker) -> channel)
            .build();
    try (client) {
      assertThatThrownBy(client::start)
          .isInstanceOf(PluginStartException.class)
          .hasMessageContaining(missing.toString());
    }
    try (Stream<Path> left = Files.list(socketParent)) {
      assertThat(left).isEmpty();
    }
  }
}
