package dev.goplugin4j.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Writes a build context or a file for {@code PUT /containers/{id}/archive} as a POSIX ustar
 * archive. Every entry is owned by root and carries the same modification time ({@link #MTIME}):
 * an AppCDS archive records each jar's size and mtime, and the engine's layer cache matches a
 * {@code COPY} by content alone, so an image rebuilt from the same files may get an older cached
 * layer; with one fixed mtime, that layer's files are byte for byte and time for time the ones
 * the archive was dumped against. Parent directories are added once, before their first file.
 * Not thread-safe.
 */
final class ImageTar implements AutoCloseable {
  /** Seconds since the epoch of every entry: 2000-01-01T00:00:00Z. */
  static final long MTIME = 946_684_800L;

  private final OutputStream out;
  private final Set<String> dirs = new LinkedHashSet<>();

  ImageTar(OutputStream out) {
    this.out = new BufferedOutputStream(out, 1 << 16);
  }

  /** A directory ({@code name} without a trailing slash), with its mode, and its parents. */
  void dir(String name, int mode) throws IOException {
    parents(name);
    if (dirs.add(name)) {
      header(name + "/", mode, 0, '5');
    }
  }

  /** A file from bytes. */
  void file(String name, int mode, byte[] data) throws IOException {
    parents(name);
    header(name, mode, data.length, '0');
    out.write(data);
    pad(data.length);
  }

  /** A file copied from {@code source} (symbolic links followed). */
  void file(String name, int mode, Path source) throws IOException {
    parents(name);
    long size = Files.size(source);
    header(name, mode, size, '0');
    long copied;
    try (InputStream in = Files.newInputStream(source)) {
      copied = in.transferTo(out);
    }
    if (copied != size) {
      throw new IOException(source + " changed while it was archived (" + size + " -> "
          + copied + " bytes)");
    }
    pad(size);
  }

  private void parents(String name) throws IOException {
    int slash = name.lastIndexOf('/');
    if (slash > 0) {
      String parent = name.substring(0, slash);
      if (!dirs.contains(parent)) {
        dir(parent, 0755);
      }
    }
  }

  private void header(String name, int mode, long size, char type) throws IOException {
    byte[] h = new byte[512];
    byte[] full = name.getBytes(StandardCharsets.UTF_8);
    if (full.length <= 100) {
      System.arraycopy(full, 0, h, 0, full.length);
    } else {
      // ustar: prefix (155 bytes) + "/" + name (100 bytes)
      int cut = -1;
      for (int i = 0; i < full.length; i++) {
        if (full[i] == '/' && i <= 155 && full.length - i - 1 <= 100 && full.length - i - 1 > 0) {
          cut = i;
          break;
        }
      }
      if (cut < 0) {
        throw new IOException("path too long for the image's tar context: " + name);
      }
      System.arraycopy(full, cut + 1, h, 0, full.length - cut - 1);
      System.arraycopy(full, 0, h, 345, cut);
    }
    put(h, 100, String.format("%07o", mode & 07777));
    put(h, 108, "0000000");
    put(h, 116, "0000000");
    put(h, 124, String.format("%011o", size));
    put(h, 136, String.format("%011o", MTIME));
    h[156] = (byte) type;
    put(h, 257, "ustar");
    put(h, 263, "00");
    put(h, 265, "root");
    put(h, 297, "root");
    for (int i = 148; i < 156; i++) {
      h[i] = ' ';
    }
    int sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    put(h, 148, String.format("%06o", sum));
    h[154] = 0;
    h[155] = ' ';
    out.write(h);
  }

  private void pad(long size) throws IOException {
    int pad = (int) ((512 - size % 512) % 512);
    out.write(new byte[pad]);
  }

  private static void put(byte[] h, int at, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, h, at, b.length);
  }

  /** Ends the archive (two zero blocks) and closes the stream. */
  @Override
  public void close() throws IOException {
    out.write(new byte[1024]);
    out.close();
  }

  /**
   * The content of the first regular file in a tar stream (as {@code GET
   * /containers/{id}/archive} answers for a single file).
   *
   * @throws IOException if the stream holds no regular file
   */
  static byte[] firstFile(InputStream tar) throws IOException {
    byte[] h = new byte[512];
    while (true) {
      if (tar.readNBytes(h, 0, 512) < 512) {
        throw new IOException("the archive holds no file");
      }
      boolean empty = true;
      for (byte b : h) {
        if (b != 0) {
          empty = false;
          break;
        }
      }
      if (empty) {
        throw new IOException("the archive holds no file");
      }
      String sizeField = new String(h, 124, 12, StandardCharsets.US_ASCII).replace("\0", "").trim();
      long size = sizeField.isEmpty() ? 0 : Long.parseLong(sizeField, 8);
      char type = (char) h[156];
      long padded = (size + 511) / 512 * 512;
      if (type == '0' || type == 0) {
        byte[] data = tar.readNBytes((int) size);
        if (data.length < size) {
          throw new IOException("the archive ends inside a file");
        }
        tar.skipNBytes(padded - size);
        return data;
      }
      tar.skipNBytes(padded);
    }
  }
}
