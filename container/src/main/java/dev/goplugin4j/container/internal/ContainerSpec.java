package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.EndpointConfig;
import java.util.List;
import java.util.Map;

/**
 * Everything the runner asks the engine to create, in engine-neutral terms. {@code null} lists
 * mean "the image's default" (entrypoint, cmd); 0 means "no limit".
 */
public record ContainerSpec(
    String image,
    List<String> env,
    List<String> entrypoint,
    List<String> cmd,
    boolean networkDisabled,
    Map<String, String> labels,
    boolean autoRemove,
    String runtime,
    long nanoCpus,
    long memory,
    String cgroupParent,
    List<String> capDrop,
    List<String> capAdd,
    List<String> groupAdd,
    List<String> securityOpt,
    long pidsLimit,
    boolean readOnlyRootFs,
    Map<String, String> tmpfs,
    String bindSource,
    String bindTarget,
    Map<String, EndpointConfig> endpoints) {}
