package dev.goplugin4j.cli.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
  void everyRelativeLinkOfTheReadmeAndTheGuidesPointsToAFileAndHeadingThatExist() throws IOException {
    List<Path> pages = new ArrayList<>();
    pages.add(Path.of("..", "README.md"));
    try (Stream<Path> s = Files.list(DOCS)) {
      s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    List<String> broken = new ArrayList<>();
    int checked = 0;
    for (Path page : pages) {
      checked += MarkdownLinks.relativeLinks(Files.readString(page)).size();
      broken.addAll(MarkdownLinks.broken(page));
    }
    // the README and the guides link each other: finding no link at all means the parser broke
    assertThat(checked).as("relative links found").isGreaterThan(10);
    assertThat(broken).as("links whose file or heading does not exist").isEmpty();
  }

  @Test
  void aLinkToAMissingFileOrHeadingIsReportedAndCodeIsNotTakenForLinks(@TempDir Path dir)
      throws IOException {
    Files.writeString(dir.resolve("other.md"), "# Other page\n\n## Set-up: step `one`\n");
    Path page = dir.resolve("page.md");
    Files.writeString(page, String.join("\n",
        "# Title",
        "See [the other page](other.md), [its step](other.md#set-up-step-one), [here](#title),",
        "[a site](https://example.org/x.md), [mail](mailto:a@b.c) and [ref][r].",
        "Broken: [gone](gone.md), [no heading](other.md#nowhere), [no anchor](#missing).",
        "`[in code](inline.md)`",
        "```go",
        "x := m[k](nope.md)",
        "```",
        "[r]: missing-ref.md",
        ""));
    assertThat(MarkdownLinks.broken(page)).containsExactly(
        "page.md: gone.md (no such file)",
        "page.md: other.md#nowhere (no such heading)",
        "page.md: #missing (no such heading)",
        "page.md: missing-ref.md (no such file)");
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
