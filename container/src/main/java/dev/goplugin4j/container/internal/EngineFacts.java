package dev.goplugin4j.container.internal;

/**
 * What kind of engine the runner talks to, as far as it matters for choosing a strategy, read from
 * the {@code /version} answer the API negotiation fetches anyway (no extra request).
 *
 * @param podman whether the engine is Podman ({@code /version} lists a "Podman Engine" component),
 *     whose Docker-compatible API ignores {@code HostConfig.Runtime}
 * @param defaultRuntime for Podman, the runtime every container of this service gets (the
 *     "OCI Runtime (name)" component); empty for Docker, which honours the requested runtime
 */
public record EngineFacts(boolean podman, String defaultRuntime) {}
