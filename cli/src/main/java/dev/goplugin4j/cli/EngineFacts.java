package dev.goplugin4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the doctor needs to know about an engine, read from its {@code GET /version} and {@code
 * GET /info} answers (Docker Engine API; Podman serves the same shapes).
 *
 * @param endpoint where it was reached
 * @param kind {@code Docker} or {@code Podman}
 * @param version the engine's version, e.g. {@code 20.10.24+dfsg1}
 * @param apiVersion the engine's newest API version
 * @param rootless whether the engine runs without root (user namespace)
 * @param runtimes registered OCI runtimes by name
 * @param defaultRuntime the runtime used when none is named, or empty
 * @param cgroupDriver {@code cgroupfs}, {@code systemd} or {@code none}
 * @param cgroupVersion {@code 1} or {@code 2}, or empty when not reported
 * @param memoryLimit whether the engine can enforce memory limits
 * @param cpuCfsQuota whether the engine can enforce CPU quotas
 * @param pidsLimit whether the engine can enforce a process limit
 * @param operatingSystem the engine host's OS description
 */
record EngineFacts(
    String endpoint,
    String kind,
    String version,
    String apiVersion,
    boolean rootless,
    Map<String, Runtime> runtimes,
    String defaultRuntime,
    String cgroupDriver,
    String cgroupVersion,
    boolean memoryLimit,
    boolean cpuCfsQuota,
    boolean pidsLimit,
    String operatingSystem) {

  EngineFacts {
    runtimes = java.util.Collections.unmodifiableMap(new TreeMap<>(runtimes));
  }

  /**
   * One registered OCI runtime.
   *
   * @param name its name with the engine ({@code runc}, {@code runsc}, ...)
   * @param path the executable the engine runs
   * @param args the runtime arguments it passes ({@code runtimeArgs} in daemon.json)
   */
  record Runtime(String name, String path, List<String> args) {
    Runtime {
      args = List.copyOf(args);
    }

    /** Whether this is gVisor: named runsc or running a runsc executable. */
    boolean isGvisor() {
      return name.equals("runsc") || path.endsWith("/runsc") || path.equals("runsc")
          || args.stream().anyMatch(a -> a.endsWith("/runsc"));
    }

    /** The value of {@code --flag=value} or {@code --flag value} among the args, or null. */
    String flag(String flag) {
      for (int i = 0; i < args.size(); i++) {
        String a = args.get(i);
        if (a.equals(flag) || a.equals("-" + flag.substring(2))) {
          return i + 1 < args.size() && !args.get(i + 1).startsWith("-") ? args.get(i + 1) : "";
        }
        for (String f : List.of(flag, "-" + flag.substring(2))) {
          if (a.startsWith(f + "=")) {
            return a.substring(f.length() + 1);
          }
        }
      }
      return null;
    }
  }

  /**
   * Parses the engine's answers.
   *
   * @param endpoint where the engine was reached
   * @param versionJson the body of {@code GET /version}
   * @param infoJson the body of {@code GET /info}
   */
  static EngineFacts parse(String endpoint, String versionJson, String infoJson) {
    JsonObject v = JsonParser.parseString(versionJson).getAsJsonObject();
    JsonObject i = JsonParser.parseString(infoJson).getAsJsonObject();
    boolean podman = false;
    if (v.has("Components") && v.get("Components").isJsonArray()) {
      for (JsonElement c : v.getAsJsonArray("Components")) {
        if (str(c.getAsJsonObject(), "Name").toLowerCase(java.util.Locale.ROOT).contains("podman")) {
          podman = true;
        }
      }
    }
    if (v.has("Platform") && v.get("Platform").isJsonObject()
        && str(v.getAsJsonObject("Platform"), "Name").toLowerCase(java.util.Locale.ROOT)
            .contains("podman")) {
      podman = true;
    }
    List<String> secOpts = new ArrayList<>();
    if (i.has("SecurityOptions") && i.get("SecurityOptions").isJsonArray()) {
      i.getAsJsonArray("SecurityOptions").forEach(e -> secOpts.add(e.getAsString()));
    }
    boolean rootless = secOpts.stream().anyMatch(s -> s.equals("name=rootless")
        || s.startsWith("name=rootless,"));
    if (podman && !rootless && endpoint.contains("/run/user/")) {
      rootless = true;
    }
    Map<String, Runtime> runtimes = new TreeMap<>();
    if (i.has("Runtimes") && i.get("Runtimes").isJsonObject()) {
      for (Map.Entry<String, JsonElement> e : i.getAsJsonObject("Runtimes").entrySet()) {
        JsonObject r = e.getValue().isJsonObject() ? e.getValue().getAsJsonObject()
            : new JsonObject();
        List<String> args = new ArrayList<>();
        if (r.has("runtimeArgs") && r.get("runtimeArgs").isJsonArray()) {
          JsonArray a = r.getAsJsonArray("runtimeArgs");
          a.forEach(x -> args.add(x.getAsString()));
        }
        runtimes.put(e.getKey(), new Runtime(e.getKey(), str(r, "path"), args));
      }
    }
    return new EngineFacts(
        endpoint,
        podman ? "Podman" : "Docker",
        str(v, "Version"),
        str(v, "ApiVersion"),
        rootless,
        runtimes,
        str(i, "DefaultRuntime"),
        str(i, "CgroupDriver"),
        str(i, "CgroupVersion"),
        bool(i, "MemoryLimit"),
        bool(i, "CpuCfsQuota"),
        bool(i, "PidsLimit"),
        str(i, "OperatingSystem"));
  }

  private static String str(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e == null || e.isJsonNull() || !e.isJsonPrimitive() ? "" : e.getAsString();
  }

  private static boolean bool(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e != null && e.isJsonPrimitive() && e.getAsBoolean();
  }
}
