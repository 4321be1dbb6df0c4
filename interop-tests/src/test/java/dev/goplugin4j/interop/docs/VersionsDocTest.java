package dev.goplugin4j.interop.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every Java block of docs/go-users.md is compiled code: an excerpt of VersionsGuide. */
class VersionsDocTest {
  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL);

  @Test
  void everyJavaBlockOfTheGoUsersGuideIsAnExcerptOfCompiledCode() throws IOException {
    String source = Files.readString(
        Path.of("src/test/java/dev/goplugin4j/interop/docs/VersionsGuide.java"));
    String guide = Files.readString(Path.of("..", "docs", "go-users.md"));
    assertThat(guide).contains("## Several protocol versions");
    Matcher m = JAVA_BLOCK.matcher(guide);
    int blocks = 0;
    List<String> notCompiled = new ArrayList<>();
    while (m.find()) {
      blocks++;
      if (!source.contains(m.group(1))) {
        notCompiled.add(m.group(1));
      }
    }
    assertThat(blocks).isGreaterThanOrEqualTo(2);
    assertThat(notCompiled).as("blocks not verbatim in VersionsGuide.java").isEmpty();
  }
}
