package dev.goplugin4j.container.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HintsAndIdsTest {
  @Test
  void unknownRuntimeHintListsTheRegisteredOnes() {
    assertThat(RuntimeHints.hint("kata", Map.of("runc", List.of(), "runsc", List.of()), "e"))
        .hasValueSatisfying(h -> assertThat(h).contains("\"kata\" is not registered")
            .contains("runc, runsc").contains("daemon.json"));
  }

  @Test
  void runscWithoutHostUdsGetsAHint() {
    assertThat(RuntimeHints.hint("runsc", Map.of("runsc", List.of("--network=none")), "e"))
        .hasValueSatisfying(h -> assertThat(h).contains("--host-uds"));
    assertThat(RuntimeHints.hint("runsc",
        Map.of("runsc", List.of("--network=none", "--host-uds=all")), "e")).isEmpty();
  }

  @Test
  void runscWithHostUdsOpenGetsAHintWhileCreateAndAllDoNot() {
    assertThat(RuntimeHints.hint("runsc",
        Map.of("runsc", List.of("--network=none", "--host-uds=open")), "e"))
        .hasValueSatisfying(h -> assertThat(h).contains("--host-uds=open")
            .contains("--host-uds=all"));
    assertThat(RuntimeHints.hint("runsc", Map.of("runsc", List.of("--host-uds", "open")), "e"))
        .hasValueSatisfying(h -> assertThat(h).contains("--host-uds=open"));
    assertThat(RuntimeHints.hint("runsc", Map.of("runsc", List.of("-host-uds=none")), "e"))
        .hasValueSatisfying(h -> assertThat(h).contains("--host-uds=none"));
    assertThat(RuntimeHints.hint("runsc", Map.of("runsc", List.of("--host-uds=create")), "e"))
        .isEmpty();
    assertThat(RuntimeHints.hint("runsc", Map.of("runsc", List.of("--host-uds", "all")), "e"))
        .isEmpty();
  }

  @Test
  void engineDefaultRuntimeUnderGvisorWithoutUsableHostUdsGetsAHint() {
    assertThat(RuntimeHints.defaultRuntimeHint("runsc",
        Map.of("runc", List.of(), "runsc", List.of("--network=none"))))
        .hasValueSatisfying(h -> assertThat(h).startsWith("Hint: the engine's default runtime")
            .contains("--host-uds"));
    assertThat(RuntimeHints.defaultRuntimeHint("gvisor",
        Map.of("gvisor", List.of("--platform=ptrace", "/usr/bin/runsc", "--host-uds=open"))))
        .hasValueSatisfying(h -> assertThat(h).contains("--host-uds=open"));
    assertThat(RuntimeHints.defaultRuntimeHint("runsc", Map.of("runsc", List.of("--host-uds=all"))))
        .isEmpty();
    assertThat(RuntimeHints.defaultRuntimeHint("runc", Map.of("runc", List.of()))).isEmpty();
    assertThat(RuntimeHints.defaultRuntimeHint("", Map.of("runsc", List.of()))).isEmpty();
  }

  @Test
  void exitCodeHints() {
    assertThat(ExitHints.describe(1, false)).contains("internal to the plugin");
    assertThat(ExitHints.describe(2, false)).contains("cgo");
    assertThat(ExitHints.describe(125, false)).contains("engine");
    assertThat(ExitHints.describe(126, false)).contains("could not be invoked");
    assertThat(ExitHints.describe(127, false)).contains("not found");
    assertThat(ExitHints.describe(137, true)).contains("memory limit");
  }

  @Test
  void hostIdRoundTripsAndKnowsThisProcessIsAlive() {
    HostId me = HostId.current();
    assertThat(HostId.parse(me.toString())).hasValue(me);
    assertThat(me.isAlive()).hasValue(true);
    long ticks = Long.parseLong(me.start().substring(1));
    assertThat(new HostId(me.hostname(), me.pid(), "t" + (ticks + 1)).isAlive())
        .hasValue(false);
    assertThat(new HostId("another-machine", 1, "1").isAlive()).isEmpty();
    assertThat(HostId.parse("garbage")).isEmpty();
    assertThat(HostId.parse("box/42/t12x")).isEmpty();
  }

  @Test
  void hostIdOfThisProcessIsInClockTicksSoAnotherJvmWithAnotherBootTimeAgrees() {
    HostId me = HostId.current();
    assertThat(me.start()).as("Linux: /proc gives clock ticks since boot").startsWith("t");
    // a label written by a host before the start was kept in ticks: epoch milliseconds, read
    // with the tolerance, never the JVM's exact value (which depends on its boot-time reading)
    long millis = ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli();
    assertThat(new HostId(me.hostname(), me.pid(), Long.toString(millis + 400)).isAlive())
        .hasValue(true);
    assertThat(new HostId(me.hostname(), me.pid(), Long.toString(millis - 5000)).isAlive())
        .hasValue(false);
    assertThat(HostId.parse("box/42/1700000000000")).hasValueSatisfying(
        id -> assertThat(id.start()).isEqualTo("1700000000000"));
  }

  @Test
  void aclEncodingIsTheKernelFormat() {
    byte[] b = PosixAcl.encode(1001);
    assertThat(b).hasSize(44);
    assertThat(b[0]).isEqualTo((byte) 2); // version
    assertThat(b[12]).isEqualTo((byte) 0x02); // ACL_USER
    assertThat(b[16]).isEqualTo((byte) (1001 & 0xff));
  }
}
