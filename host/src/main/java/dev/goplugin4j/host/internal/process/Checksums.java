package dev.goplugin4j.host.internal.process;

import dev.goplugin4j.host.ChecksumMismatchException;
import dev.goplugin4j.host.PluginStartException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * SHA-256 verification of plugin executables before they are started (go-plugin's {@code
 * SecureConfig}). Stateless and thread-safe.
 */
public final class Checksums {
  /** Length of a SHA-256 digest in bytes. */
  public static final int SHA256_LENGTH = 32;

  private static final int READ_BUFFER = 64 * 1024;

  private Checksums() {}

  /**
   * Hashes the file, streaming it, and compares the result with the expected digest.
   *
   * @param executable the plugin executable; not null
   * @param expectedSha256 the expected SHA-256 digest, exactly {@value #SHA256_LENGTH} bytes
   * @throws ChecksumMismatchException if the digests differ
   * @throws PluginStartException if the file cannot be read
   * @throws IllegalArgumentException if {@code expectedSha256} is not 32 bytes long
   */
  public static void verify(Path executable, byte[] expectedSha256) {
    Objects.requireNonNull(executable, "executable");
    Objects.requireNonNull(expectedSha256, "expectedSha256");
    if (expectedSha256.length != SHA256_LENGTH) {
      throw new IllegalArgumentException(
          "expectedSha256 must be " + SHA256_LENGTH + " bytes, got " + expectedSha256.length);
    }
    byte[] actual = sha256(executable);
    if (!MessageDigest.isEqual(actual, expectedSha256)) {
      HexFormat hex = HexFormat.of();
      throw new ChecksumMismatchException(
          executable, hex.formatHex(expectedSha256), hex.formatHex(actual));
    }
  }

  /**
   * The SHA-256 digest of a file, read as a stream.
   *
   * @param file the file; not null
   * @return the 32-byte digest
   * @throws PluginStartException if the file cannot be read
   */
  public static byte[] sha256(Path file) {
    Objects.requireNonNull(file, "file");
    MessageDigest digest = newSha256();
    byte[] buffer = new byte[READ_BUFFER];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buffer)) != -1) {
        digest.update(buffer, 0, n);
      }
    } catch (IOException e) {
      throw new PluginStartException(
          "cannot read plugin executable "
              + file
              + " to verify its SHA-256 checksum ("
              + e
              + "); check that the path is right and the file is readable by this user",
          e);
    }
    return digest.digest();
  }

  /**
   * Parses a hex SHA-256 digest, as printed by {@code sha256sum}.
   *
   * @param hex 64 hex digits, either case, optionally prefixed with {@code sha256:}; not null
   * @return the 32-byte digest
   * @throws IllegalArgumentException if the text is not a SHA-256 digest
   */
  public static byte[] parseHex(String hex) {
    Objects.requireNonNull(hex, "hex");
    String digits = hex.startsWith("sha256:") ? hex.substring("sha256:".length()) : hex;
    if (digits.length() != 2 * SHA256_LENGTH) {
      throw new IllegalArgumentException(
          "a SHA-256 checksum is 64 hex digits, got " + digits.length() + " characters: " + hex);
    }
    try {
      return HexFormat.of().parseHex(digits);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a hex SHA-256 checksum: " + hex, e);
    }
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform must provide SHA-256.
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }
}
