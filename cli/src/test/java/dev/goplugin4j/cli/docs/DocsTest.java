package dev.goplugin4j.cli.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The user's guide shows exactly the code that CI compiles and runs. */
class DocsTest {
  private static final Path DOCS = Path.of("..", "docs");
  private static final Path SNIPPETS = Path.of("src/test/java/dev/goplugin4j/cli/docs");

  @Test
  void gettingStartedContainsEachCompiledProgramVerbatim() throws IOException {
    String md = Files.readString(DOCS.resolve("getting-started.md"));
    for (String f : List.of("KvHost.java", "KvPluginMain.java", "SandboxedKvHost.java")) {
      String source = Files.readString(SNIPPETS.resolve(f));
      assertThat(md).as("docs/getting-started.md must contain " + f + " verbatim; copy it in")
          .contains("```java\n" + source + "```");
    }
  }

  @Test
  void everyGuideTheReadmeAndGettingStartedPointToExists() {
    for (String f : List.of("getting-started.md", "security.md", "troubleshooting.md",
        "go-users.md", "containers.md")) {
      assertThat(DOCS.resolve(f)).as(f).isRegularFile();
    }
  }

  @Test
  void troubleshootingNamesEveryPublicExceptionTypeOfTheLibrary() throws IOException {
    String md = Files.readString(DOCS.resolve("troubleshooting.md"));
    for (String module : List.of("protocol", "host", "container", "server")) {
      try (var files = Files.walk(Path.of("..", module, "src", "main", "java"))) {
        List<String> types = files.filter(p -> !p.toString().contains("/internal/"))
            .map(p -> p.getFileName().toString())
            .filter(n -> n.endsWith("Exception.java"))
            .map(n -> n.substring(0, n.length() - ".java".length()))
            .toList();
        for (String t : types) {
          assertThat(md).as("docs/troubleshooting.md must explain " + t).contains(t);
        }
      }
    }
  }
}
