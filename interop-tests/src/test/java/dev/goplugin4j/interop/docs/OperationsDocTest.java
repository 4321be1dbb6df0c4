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

/**
 * Every Java block of docs/operations.md is compiled code: an excerpt of OperationsGuide, or for
 * the "Metrics" and "Tracing" sections of the micrometer module's MetricsGuide and the
 * opentelemetry module's TracingGuide (those modules depend on this one, so they compile their own
 * guides).
 */
class OperationsDocTest {
  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL);

  @Test
  void everyJavaBlockOfTheOperationsGuideIsAnExcerptOfCompiledCode() throws IOException {
    String source = Files.readString(
        Path.of("src/test/java/dev/goplugin4j/interop/docs/OperationsGuide.java"))
        + Files.readString(Path.of("..", "micrometer", "src", "test", "java", "dev", "goplugin4j",
            "micrometer", "MetricsGuide.java"))
        + Files.readString(Path.of("..", "opentelemetry", "src", "test", "java", "dev",
            "goplugin4j", "opentelemetry", "TracingGuide.java"));
    Matcher m = JAVA_BLOCK.matcher(Files.readString(Path.of("..", "docs", "operations.md")));
    int blocks = 0;
    List<String> notCompiled = new ArrayList<>();
    while (m.find()) {
      blocks++;
      if (!source.contains(m.group(1))) {
        notCompiled.add(m.group(1));
      }
    }
    assertThat(blocks).isGreaterThanOrEqualTo(5);
    assertThat(notCompiled).as("blocks not verbatim in OperationsGuide.java, MetricsGuide.java or TracingGuide.java").isEmpty();
  }
}
