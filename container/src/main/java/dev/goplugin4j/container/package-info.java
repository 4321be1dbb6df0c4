/**
 * The container runner: run go-plugin plugins inside hardened containers (Docker or Podman,
 * runc or gVisor's runsc) and talk to them over a Unix socket in a bind-mounted directory. The
 * Java counterpart of {@code github.com/hashicorp/go-secure-stdlib/plugincontainer}.
 *
 * <p>Start with {@link dev.goplugin4j.container.ContainerConfig}, which is the {@link
 * dev.goplugin4j.host.RunnerFactory} a host passes to its client.
 */
package dev.goplugin4j.container;
