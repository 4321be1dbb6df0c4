package dev.goplugin4j.container.internal;

import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One runner's view of a shared {@link DockerJavaEngine} (see {@link EngineShare}): every call
 * goes to the shared connection except attach and the exit wait, which use a stream client of
 * this view's own. {@link #close()} cuts this view's streams and gives the share back; the shared
 * connection stays open for the other runners. After close, every call fails with an {@link
 * EngineException}, as on a closed engine.
 *
 * <p>Thread-safe.
 */
final class EngineLease implements Engine {
  private final DockerJavaEngine shared;
  private final EngineStreams streams;
  private final Runnable onClose;
  private volatile boolean closed;

  EngineLease(DockerJavaEngine shared, EngineStreams streams, Runnable onClose) {
    this.shared = shared;
    this.streams = streams;
    this.onClose = onClose;
  }

  private DockerJavaEngine engine() {
    if (closed) {
      throw new EngineException("the connection to the engine at " + shared.endpoint()
          + " was closed", 0, null);
    }
    return shared;
  }

  @Override
  public String describe() {
    return shared.describe();
  }

  @Override
  public String endpoint() {
    return shared.endpoint();
  }

  @Override
  public String apiVersion() {
    return shared.apiVersion();
  }

  @Override
  public List<String> imageIds(String reference) {
    return engine().imageIds(reference);
  }

  @Override
  public String createContainer(ContainerSpec spec) {
    return engine().createContainer(spec);
  }

  @Override
  public InputStream attach(String id) {
    engine();
    return streams.attach(id);
  }

  @Override
  public CompletableFuture<Long> waitForExit(String id, boolean nextExit) {
    engine();
    return streams.waitForExit(id, nextExit);
  }

  @Override
  public ExitWait registerExitWait(String id, boolean nextExit) {
    engine();
    return streams.registerExitWait(id, nextExit);
  }

  @Override
  public void start(String id) {
    engine().start(id);
  }

  @Override
  public boolean stop(String id, int graceSeconds) {
    return engine().stop(id, graceSeconds);
  }

  @Override
  public boolean remove(String id) {
    return engine().remove(id);
  }

  @Override
  public Optional<ContainerInfo> inspect(String id) {
    return engine().inspect(id);
  }

  @Override
  public Logs logs(String id) {
    return engine().logs(id);
  }

  @Override
  public List<ContainerSummary> listByLabel(String key, String value) {
    return engine().listByLabel(key, value);
  }

  @Override
  public Map<String, List<String>> runtimes() {
    return engine().runtimes();
  }

  @Override
  public String defaultRuntime() {
    return engine().defaultRuntime();
  }

  @Override
  public EngineFacts facts() {
    return shared.facts();
  }

  @Override
  public boolean rootless() {
    return engine().rootless();
  }

  /** Cuts this view's attach and wait streams and gives the share back; idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      streams.close();
    } finally {
      onClose.run();
    }
  }

  @Override
  public String toString() {
    return "EngineLease{" + shared.describe() + "}";
  }
}
