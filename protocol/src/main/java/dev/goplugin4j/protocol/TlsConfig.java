package dev.goplugin4j.protocol;

import java.util.Objects;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * A user-supplied TLS configuration, the alternative to AutoMTLS: the key material this side
 * presents and the trust it places in the peer. Always used with the JDK's TLS provider (SunJSSE),
 * also where AutoMTLS runs on native crypto (see docs/tls.md). The TLS authority
 * is always {@code localhost}, as in go-plugin: the peer's certificate must be valid for it.
 *
 * <p>Immutable and thread-safe (the factories must not be changed after building).
 *
 * @param keyManagers this side's certificate and key; not null
 * @param trustManagers which peer certificates to trust; not null
 */
public record TlsConfig(KeyManagerFactory keyManagers, TrustManagerFactory trustManagers) {
  /** Validates the fields. */
  public TlsConfig {
    Objects.requireNonNull(keyManagers, "keyManagers");
    Objects.requireNonNull(trustManagers, "trustManagers");
  }
}
