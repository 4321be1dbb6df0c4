/**
 * The goplugin4j host client: start go-plugin plugins as processes (or through a {@link
 * dev.goplugin4j.host.RunnerFactory}, such as the container runner), handshake, connect over gRPC
 * and dispense typed clients.
 */
module dev.goplugin4j.host {
  requires transitive dev.goplugin4j.protocol;
  requires transitive io.grpc;
  requires io.grpc.netty.shaded;
  requires io.grpc.stub;
  requires io.grpc.services;
  requires io.grpc.protobuf;
  requires com.google.protobuf;
  requires com.google.gson;
  requires org.slf4j;

  exports dev.goplugin4j.host;
  // one notion of "this process started then" for the records hosts leave (owner records,
  // container labels, reattach claims)
  exports dev.goplugin4j.host.internal.process to dev.goplugin4j.container;
}
