package dev.goplugin4j.container.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * What the runner needs from a container inspection, plus the whole answer for diagnosis and
 * tests.
 */
public record ContainerInfo(
    String id,
    String image,
    String status,
    boolean running,
    long exitCode,
    String error,
    boolean oomKilled,
    List<String> entrypoint,
    List<String> cmd,
    Map<String, String> labels,
    Map<String, String> bindSources,
    JsonNode raw) {

  /** The host source of the bind mount whose target is {@code target}, or null. */
  public String bindSource(String target) {
    return bindSources.get(target);
  }
}
