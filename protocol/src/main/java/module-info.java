/**
 * The go-plugin wire protocol: handshake line, environment names, version negotiation, AutoMTLS
 * certificates, the {@code plugin.*} protos and the gRPC transport over Unix sockets and yamux.
 */
module dev.goplugin4j.protocol {
  requires transitive io.grpc;
  requires transitive org.slf4j;
  requires io.grpc.netty.shaded;
  requires io.grpc.protobuf;
  requires io.grpc.stub;
  requires io.grpc.services;
  requires com.google.protobuf;
  requires org.bouncycastle.provider;
  // the native AutoMTLS path (docs/tls.md): BouncyCastle JSSE with a private ACCP instance; ACCP
  // is optional at run time (resolved when on the module path: it provides java.security.Provider)
  requires org.bouncycastle.tls;
  requires java.logging;
  requires static com.amazon.corretto.crypto.provider;
  requires com.google.common;

  exports dev.goplugin4j.protocol;
  exports dev.goplugin4j.protocol.internal.proto to
      dev.goplugin4j.host,
      dev.goplugin4j.server,
      dev.goplugin4j.container;
  exports dev.goplugin4j.protocol.internal.broker to
      dev.goplugin4j.host,
      dev.goplugin4j.server,
      dev.goplugin4j.container;
  exports dev.goplugin4j.protocol.internal.tls to
      dev.goplugin4j.host,
      dev.goplugin4j.server,
      dev.goplugin4j.container;
  exports dev.goplugin4j.protocol.internal.transport to
      dev.goplugin4j.host,
      dev.goplugin4j.server,
      dev.goplugin4j.container;
  exports dev.goplugin4j.protocol.internal.yamux to
      dev.goplugin4j.host,
      dev.goplugin4j.server,
      dev.goplugin4j.container;
}
