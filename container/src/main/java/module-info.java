/**
 * The goplugin4j container runner: plugins in Docker/Podman containers with runc or gVisor, the
 * Java counterpart of HashiCorp's plugincontainer. Only {@code dev.goplugin4j.container} is API;
 * engine access (docker-java) stays internal.
 */
module dev.goplugin4j.container {
  requires transitive dev.goplugin4j.host;
  requires com.github.dockerjava.api;
  requires com.github.dockerjava.core;
  requires com.github.dockerjava.transport;
  requires com.github.dockerjava.transport.httpclient5;
  requires com.fasterxml.jackson.databind;
  requires com.sun.jna;
  requires org.slf4j;

  exports dev.goplugin4j.container;
}
