package dev.goplugin4j.container.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal Docker Engine on a Unix socket, for the connection's lifecycle: answers {@code GET
 * /_ping} (API 1.41), a container start with 204, a container listing with an empty one and, for any other request, 404 with a JSON message (an inspect of a
 * container that does not exist), keeping connections alive as Docker does. {@link #restart()}
 * closes every connection and the socket and binds it again, as an engine restart does. Counts
 * pings and accepted connections.
 */
final class FakeEngine implements AutoCloseable {
  private final Path socket;
  private final List<SocketChannel> clients = new CopyOnWriteArrayList<>();
  final AtomicInteger pings = new AtomicInteger();
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger requests = new AtomicInteger();
  private volatile ServerSocketChannel server;

  FakeEngine(Path dir) throws IOException {
    socket = dir.resolve("engine.sock");
    bind();
  }

  String endpoint() {
    return "unix://" + socket;
  }

  /** Connections open now. */
  int openConnections() {
    clients.removeIf(c -> !c.isOpen());
    return clients.size();
  }

  private void bind() throws IOException {
    ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    s.bind(UnixDomainSocketAddress.of(socket));
    server = s;
    Thread acceptor = new Thread(() -> accept(s), "test-fake-engine");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void accept(ServerSocketChannel s) {
    try {
      while (true) {
        SocketChannel c = s.accept();
        connections.incrementAndGet();
        clients.add(c);
        Thread t = new Thread(() -> serve(c), "test-fake-engine-conn");
        t.setDaemon(true);
        t.start();
      }
    } catch (IOException e) {
      // closed
    }
  }

  private void serve(SocketChannel c) {
    try (c) {
      InputStream in = Channels.newInputStream(c);
      OutputStream out = Channels.newOutputStream(c);
      while (true) {
        String requestLine = line(in);
        if (requestLine == null) {
          return;
        }
        int length = 0;
        for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
          String lower = h.toLowerCase(Locale.ROOT);
          if (lower.startsWith("content-length:")) {
            length = Integer.parseInt(h.substring("content-length:".length()).strip());
          }
        }
        in.readNBytes(length);
        requests.incrementAndGet();
        String path = requestLine.split(" ")[1];
        if (path.equals("/_ping")) {
          pings.incrementAndGet();
          respond(out, "200 OK", "API-Version: 1.41\r\nContent-Type: text/plain\r\n", "OK");
        } else if (requestLine.startsWith("POST ") && path.endsWith("/start")) {
          out.write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } else if (path.contains("/containers/json")) {
          respond(out, "200 OK", "Content-Type: application/json\r\n", "[]");
        } else {
          respond(out, "404 Not Found", "Content-Type: application/json\r\n",
              "{\"message\":\"No such container\"}");
        }
      }
    } catch (IOException e) {
      // closed
    }
  }

  private static void respond(OutputStream out, String status, String headers, String body)
      throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    out.write(("HTTP/1.1 " + status + "\r\n" + headers + "Content-Length: " + b.length
        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(b);
    out.flush();
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return null;
  }

  /** Closes every connection and the socket, then listens again on the same path. */
  void restart() throws IOException {
    closeAll();
    bind();
  }

  private void closeAll() throws IOException {
    server.close();
    for (SocketChannel c : clients) {
      c.close();
    }
    clients.clear();
    Files.deleteIfExists(socket);
  }

  @Override
  public void close() throws IOException {
    closeAll();
  }
}
