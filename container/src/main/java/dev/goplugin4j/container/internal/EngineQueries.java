package dev.goplugin4j.container.internal;

import static dev.goplugin4j.container.internal.DockerJavaEngine.shortId;
import static dev.goplugin4j.container.internal.EngineTransport.JSON;
import static dev.goplugin4j.container.internal.EngineTransport.readBody;
import static dev.goplugin4j.container.internal.EngineTransport.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.transport.DockerHttpClient.Response;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Query phase of {@link DockerJavaEngine}: what the engine tells about one container ({@code GET
 * /containers/{id}/json}) and about itself ({@code GET /info}: runtimes, default runtime,
 * rootless), for the start's socket strategy, diagnosis and clean-up. Each call is bounded by the
 * call timeout.
 *
 * <p>Thread-safe: no state of its own beyond the transport.
 */
final class EngineQueries {
  private final EngineTransport transport;

  EngineQueries(EngineTransport transport) {
    this.transport = transport;
  }

  /** See {@link Engine#inspect(String)}. */
  Optional<ContainerInfo> inspect(String id) {
    return transport.bounded(transport.callTimeout(), "inspect container " + shortId(id),
        () -> doInspect(id));
  }

  private Optional<ContainerInfo> doInspect(String id) {
    try (Response r = transport.execute("GET", "/containers/" + id + "/json", null)) {
      if (r.getStatusCode() == 404) {
        return Optional.empty();
      }
      byte[] body = readBody(r);
      if (r.getStatusCode() != 200) {
        throw new EngineException("GET /containers/" + shortId(id) + "/json answered "
            + r.getStatusCode() + ": " + text(body), r.getStatusCode(), null);
      }
      return Optional.of(toInfo(JSON.readTree(body)));
    } catch (IOException e) {
      throw new EngineException("cannot inspect container " + shortId(id) + ": " + e, 0, e);
    }
  }

  private static ContainerInfo toInfo(JsonNode j) {
    JsonNode state = j.path("State");
    JsonNode config = j.path("Config");
    Map<String, String> labels = new TreeMap<>();
    config.path("Labels").fields().forEachRemaining(e -> labels.put(e.getKey(),
        e.getValue().asText()));
    Map<String, String> binds = new LinkedHashMap<>();
    for (JsonNode m : j.path("Mounts")) {
      if ("bind".equals(m.path("Type").asText())) {
        binds.put(m.path("Destination").asText(), m.path("Source").asText());
      }
    }
    return new ContainerInfo(
        j.path("Id").asText(),
        config.path("Image").asText(),
        state.path("Status").asText(""),
        state.path("Running").asBoolean(false),
        state.path("ExitCode").asLong(0),
        state.path("Error").asText(""),
        state.path("OOMKilled").asBoolean(false),
        textList(config.path("Entrypoint")),
        textList(config.path("Cmd")),
        labels,
        binds,
        j);
  }

  private static List<String> textList(JsonNode n) {
    List<String> out = new ArrayList<>();
    if (n.isArray()) {
      n.forEach(e -> out.add(e.asText()));
    } else if (n.isTextual()) {
      out.add(n.asText());
    }
    return out;
  }

  /** See {@link Engine#runtimes()}. */
  Map<String, List<String>> runtimes() {
    return transport.bounded(transport.callTimeout(), "GET /info", () -> doRuntimes());
  }

  private Map<String, List<String>> doRuntimes() {
    JsonNode info = info();
    Map<String, List<String>> out = new TreeMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = info.path("Runtimes").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), textList(e.getValue().path("runtimeArgs")));
    }
    return out;
  }

  /** See {@link Engine#defaultRuntime()}. */
  String defaultRuntime() {
    return transport.bounded(transport.callTimeout(), "GET /info",
        () -> info().path("DefaultRuntime").asText(""));
  }

  /** Whether the engine runs rootless, asked anew each time (the caller keeps the answer). */
  boolean rootless() {
    return ApiNegotiation.rootless(
        transport.bounded(transport.callTimeout(), "GET /info", () -> info()));
  }

  private JsonNode info() {
    return transport.requestJson("GET", "/info", null, 200);
  }
}
