/**
 * The goplugin4j plugin SDK: serve go-plugin plugins written in Java to unmodified Go (or Java)
 * hosts. See {@link dev.goplugin4j.server.PluginServer}.
 *
 * <p>The module also provides an SLF4J 2 service provider that writes hclog-style JSON lines to
 * the process's real stderr, where a go-plugin host picks them up as log entries with their
 * levels and fields.
 */
module dev.goplugin4j.server {
  requires transitive dev.goplugin4j.protocol;
  requires transitive io.grpc;
  requires transitive org.slf4j;
  requires io.grpc.netty.shaded;
  requires io.grpc.stub;
  requires io.grpc.services;
  requires io.grpc.protobuf;
  requires com.google.protobuf;
  requires java.logging;

  exports dev.goplugin4j.server;

  provides org.slf4j.spi.SLF4JServiceProvider with
      dev.goplugin4j.server.internal.log.HclogServiceProvider;
}
