package dev.goplugin4j.cli.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every Java block of the guides below is compiled code: a whole source file of this package, or a
 * verbatim excerpt of one (a method, a statement), never a sketch with "..." in it.
 */
class DocsJavaBlocksTest {
  private static final Path DOCS = Path.of("..", "docs");
  private static final Path SNIPPETS = Path.of("src/test/java/dev/goplugin4j/cli/docs");
  private static final List<String> GUIDES =
      List.of("getting-started.md", "plugin-sdk.md", "maven.md");
  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL);

  @Test
  void everyJavaBlockOfTheGuidesIsAnExcerptOfACompiledSource() throws IOException {
    List<String> sources = new ArrayList<>();
    try (Stream<Path> s = Files.list(SNIPPETS)) {
      for (Path p : s.filter(p -> p.toString().endsWith(".java")).toList()) {
        sources.add(Files.readString(p));
      }
    }
    int blocks = 0;
    List<String> notCompiled = new ArrayList<>();
    for (String guide : GUIDES) {
      Matcher m = JAVA_BLOCK.matcher(Files.readString(DOCS.resolve(guide)));
      while (m.find()) {
        blocks++;
        String block = m.group(1);
        if (sources.stream().noneMatch(src -> src.contains(block))) {
          notCompiled.add(guide + ":\n" + block);
        }
      }
    }
    assertThat(blocks).as("Java blocks found in " + GUIDES).isGreaterThanOrEqualTo(6);
    assertThat(notCompiled)
        .as("Java blocks that are not verbatim in a source of " + SNIPPETS + "; copy them there")
        .isEmpty();
  }
}
