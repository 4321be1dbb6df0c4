package dev.goplugin4j.container.internal;

import static dev.goplugin4j.container.internal.DockerJavaEngine.shortId;
import static dev.goplugin4j.container.internal.EngineTransport.JSON;
import static dev.goplugin4j.container.internal.EngineTransport.failure;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient.Response;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stream phase of {@link DockerJavaEngine}: the attach stream (stdout and stderr, multiplexed),
 * the wait for a container's exit, and a finished container's logs. Attach and wait are accepted
 * by the engine within the call timeout and then last as long as the container runs, on a stream
 * client of their own (built at the first attach or wait); {@link #close()} closes that client,
 * which cuts them. Each user of a shared engine (one runner) has its own instance, so that closing
 * it cuts that runner's streams only; logs go over the transport's shared plain client.
 *
 * <p>Thread-safe; each wait has its own daemon thread.
 */
final class EngineStreams implements AutoCloseable {
  // the engine's logger: tests and users read these lines under DockerJavaEngine
  private static final Logger LOG = LoggerFactory.getLogger(DockerJavaEngine.class);
  private static final AtomicInteger THREAD_IDS = new AtomicInteger();

  private final EngineTransport transport;
  private final Object lock = new Object();
  /** Attach and wait: no response timeout. Guarded by {@link #lock}; built on first use. */
  private DockerHttpClient client;
  private boolean closed;

  EngineStreams(EngineTransport transport) {
    this.transport = transport;
  }

  /** The stream client, built on first use. */
  private DockerHttpClient client() {
    synchronized (lock) {
      if (closed) {
        throw new EngineException("the connection to the engine at " + transport.endpoint()
            + " was closed", 0, null);
      }
      if (client == null) {
        client = transport.newStreamClient();
      }
      return client;
    }
  }

  /** Closes the stream client: attach and wait streams still open are cut. Idempotent. */
  @Override
  public void close() {
    DockerHttpClient c;
    synchronized (lock) {
      closed = true;
      c = client;
      client = null;
    }
    if (c != null) {
      EngineTransport.closeQuietly(c);
    }
  }

  /** See {@link Engine#attach(String)}. */
  InputStream attach(String id) {
    // bounded until the engine accepts the attachment; the stream itself is not
    Response r = transport.bounded(transport.callTimeout(), "attach to container " + shortId(id),
        () -> transport.execute(client(),
            "POST", "/containers/" + id + "/attach?stream=1&stdout=1&stderr=1&logs=0", null));
    if (r.getStatusCode() != 200 && r.getStatusCode() != 101) {
      throw failure(r, "POST /containers/" + id + "/attach");
    }
    return new ResponseStream(r);
  }

  /** See {@link Engine#waitForExit(String, boolean)}. */
  CompletableFuture<Long> waitForExit(String id, boolean nextExit) {
    Response r = openWait(id, nextExit);
    // The engine sends the headers once the wait is registered, and the body at exit.
    CompletableFuture<Long> exit = new CompletableFuture<>();
    daemonThread("goplugin4j-container-wait-" + shortId(id), () -> readExit(r, id, exit)).start();
    return exit;
  }

  /** See {@link Engine#registerExitWait(String, boolean)}. */
  Engine.ExitWait registerExitWait(String id, boolean nextExit) {
    CompletableFuture<Void> registered = new CompletableFuture<>();
    CompletableFuture<Long> exit = new CompletableFuture<>();
    daemonThread("goplugin4j-container-wait-" + shortId(id), () -> {
      Response r;
      try {
        r = openWait(id, nextExit);
      } catch (RuntimeException | Error e) {
        registered.completeExceptionally(e);
        exit.completeExceptionally(e);
        return;
      }
      registered.complete(null);
      readExit(r, id, exit);
    }).start();
    return new Engine.ExitWait(registered, exit);
  }

  /** Sends the wait request; returns once the engine has registered it (headers received). */
  private Response openWait(String id, boolean nextExit) {
    String condition = nextExit ? "next-exit" : "not-running";
    Response r = transport.bounded(transport.callTimeout(), "wait for container " + shortId(id),
        () -> transport.execute(client(),
            "POST", "/containers/" + id + "/wait?condition=" + condition, null));
    if (r.getStatusCode() != 200) {
      throw failure(r, "POST /containers/" + id + "/wait");
    }
    return r;
  }

  /** Reads the wait's body, sent at the container's exit, into {@code exit}. */
  private static void readExit(Response r, String id, CompletableFuture<Long> exit) {
    try (r) {
      JsonNode status = JSON.readTree(r.getBody());
      String error = status.path("Error").path("Message").asText("");
      if (!error.isEmpty()) {
        LOG.debug("wait for container {} reported: {}", shortId(id), error);
      }
      exit.complete(status.path("StatusCode").asLong(-1));
    } catch (IOException | RuntimeException e) {
      exit.completeExceptionally(e);
    }
  }

  /** See {@link Engine#logs(String)}. */
  Engine.Logs logs(String id) {
    return transport.bounded(transport.callTimeout(), "read the logs of container " + shortId(id),
        () -> doLogs(id));
  }

  private Engine.Logs doLogs(String id) {
    try (Response r = transport.execute("GET", "/containers/" + id + "/logs?stdout=1&stderr=1",
        null)) {
      if (r.getStatusCode() != 200) {
        throw failure(r, "GET /containers/" + id + "/logs");
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      FrameDemuxer.copy(r.getBody(), out, err);
      return new Engine.Logs(out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new EngineException("cannot read logs of container " + shortId(id) + ": " + e, 0, e);
    }
  }

  private static Thread daemonThread(String name, Runnable r) {
    ThreadFactory f = run -> {
      Thread t = new Thread(run, name + "-" + THREAD_IDS.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    return f.newThread(r);
  }

  /** A response body that closes its response. */
  private static final class ResponseStream extends InputStream {
    private final Response response;
    private final InputStream in;

    ResponseStream(Response response) {
      this.response = response;
      this.in = response.getBody();
    }

    @Override
    public int read() throws IOException {
      return in.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return in.read(b, off, len);
    }

    @Override
    public void close() {
      response.close();
    }
  }
}
