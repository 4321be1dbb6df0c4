package dev.goplugin4j.container.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.PluginCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the diagnosis says about the socket dir, before any engine call. */
class SocketDirDiagnosisTest {

  private static final PluginCommand COMMAND = new PluginCommand(List.of("plugin"), Map.of());

  @Test
  void anOwnerOnlySocketDirWithoutAGroupTellsHowANonRootImageGetsIn(@TempDir Path tmp)
      throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("sockets"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    ContainerConfig config = ContainerConfig.builder().image("some-plugin").build();
    String diagnosis = new ContainerRunner(config, COMMAND, dir, Map.of()).diagnose();
    assertThat(diagnosis)
        .contains("(mode rwx------, uid ")
        .contains("can create the plugin's socket there")
        .contains("ContainerConfig.groupAdd(G)")
        .contains("unixSocketGroup(\"G\")")
        .contains("--user 0:0");
  }

  @Test
  void aGroupWritableSocketDirWithGroupAddNeedsNoHint(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("sockets"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---")); // no umask
    ContainerConfig config = ContainerConfig.builder().image("some-plugin").groupAdd(1500).build();
    String diagnosis = new ContainerRunner(config, COMMAND, dir, Map.of()).diagnose();
    assertThat(diagnosis).contains("(mode rwxrwx---, uid ").doesNotContain("groupAdd(G)");
  }
}
