#!/bin/bash
# Benchmarks the Java host against go-plugin's Go host, same plugin binaries, same machine, same
# run: builds the benchmarks module and our Go drivers, runs each figure group on the Java side
# (JMH) and then on the Go side, and prints one JSON object per figure on stdout, then one ratio
# object per Java/Go pair. Progress and JMH's report go to stderr.
#
# Usage: scripts/bench.sh [--quick] [--only GROUP[,GROUP...]] [--offline]
#   --quick    short settings for development (seconds instead of minutes; numbers are rough)
#   --only     groups to run; default all: kv counter counter-mux coldstart coldstart-fresh yamux
#              fresh-jvm host-cost streaming
#              container-runc container-runsc container-runc-mux container-runsc-mux
#              plugincontainer-java-runc plugincontainer-java-runsc containers32-runc containers32-runsc
#              (these need the engine: scripts/setup-engine.sh as root)
#   fresh-jvm runs JDK 25 variants too when BENCH_JAVA25 (default
#   /usr/lib/jvm/temurin-25-jdk-amd64/bin/java) is executable.
#   --offline  pass -o to Maven
# Results also land in benchmarks/target/bench-results/ (figures.jsonl, ratios.jsonl, table.md,
# machine.txt); the plugins run in benchmarks/target/bench-work/.
#
# A group whose Java side cannot run yet (e.g. a feature still in progress) is reported on stderr
# and in the results as not measured; the other groups still run. Exit status 1 if any did fail.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH=/usr/local/go/bin:$PATH

quick=0
offline=()
groups="kv counter counter-mux coldstart coldstart-fresh yamux fresh-jvm host-cost streaming container-runc container-runsc container-runc-mux container-runsc-mux plugincontainer-java-runc plugincontainer-java-runsc containers32-runc containers32-runsc"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --offline) offline=(-o) ;;
    --only) shift; groups=${1//,/ } ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'bench: %s\n' "$*" >&2; }

# Settings shared by both sides. Steady-state figures: warm-up WI x W s, measurement I x R s.
if [ "$quick" -eq 1 ]; then
  WI=2 W=1 I=3 R=1 COLD_WARMUP=1 COLD_RUNS=5 FRESH=2 BULK_WARMUP=1 BULK_RUNS=3 BULK_MIB=64
  CT_WARMUP=1 CT_RUNS=3 FRESH_JVM=3 STREAM_MIB=16 STREAM_WARMUP=1 STREAM_RUNS=3 MANY_RUNS=2
else
  WI=15 W=2 I=10 R=2 COLD_WARMUP=3 COLD_RUNS=20 FRESH=5 BULK_WARMUP=3 BULK_RUNS=10 BULK_MIB=256
  CT_WARMUP=2 CT_RUNS=20 FRESH_JVM=7 STREAM_MIB=64 STREAM_WARMUP=30 STREAM_RUNS=10 MANY_RUNS=5
fi
java25=${BENCH_JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}

out_dir=$root/benchmarks/target/bench-results
work=$root/benchmarks/target/bench-work
gobin=$root/benchmarks/target/go-bin

say "building the benchmarks module (mvn package -pl benchmarks -am, tests not compiled)"
mvn -q -B -ntp "${offline[@]}" -pl benchmarks -am package -Dmaven.test.skip=true >&2

say "building the Go drivers"
(cd benchmarks/src/main/go &&
  GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off \
    go build -trimpath -o "$gobin/" ./kvhost ./counterhost ./yamuxbulk ./streamhost &&
    cd containerhost && GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off \
    go build -trimpath -o "$gobin/" .) >&2

rm -rf "$work" "$out_dir"
mkdir -p "$work" "$out_dir"
figures=$out_dir/figures.jsonl
: >"$figures"
failed=0

cp="$root/benchmarks/target/classes:$(cat "$root/benchmarks/target/classpath.txt")"
jvm=(java -Dgoplugin4j.goPeersDir="$root/target/go-peers" -Dgoplugin4j.bench.yamuxDriver="$gobin/yamuxbulk" -cp "$cp")
# bench_main_with JVM-OPTION... -- ARG...: BenchMain ARG... with JVM options of its own
bench_main_with() {
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ $# -gt 0 ] || { echo "bench: bench_main_with needs -- before BenchMain's arguments" >&2; return 2; }
  shift
  (cd "$work" && "${jvm[0]}" "${opts[@]}" "${jvm[@]:1}" dev.goplugin4j.benchmarks.BenchMain "$@")
}
bench_main() { bench_main_with -- "$@"; }

say "building the Go plugins (go-plugin examples, cached under target/go-peers)"
eval "$(bench_main peers)"
jvm+=(-Dgoplugin4j.bench.kvPlugin="$KV_PLUGIN" -Dgoplugin4j.bench.streamingPlugin="$STREAMING_PLUGIN")

{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "kernel: $(uname -r)"
  echo "jdk: $(java -version 2>&1 | head -2 | tail -1)"
  echo "go: $(go env GOVERSION)"
  echo "load before run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "docker: $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 'not reachable')"
  echo "runsc: $(runsc --version 2>/dev/null | head -1 || echo 'not installed')"
  echo "jdk25: $([ -x "$java25" ] && "$java25" -version 2>&1 | head -2 | tail -1 || echo 'not installed')"
  echo "settings: quick=$quick FRESH_JVM=$FRESH_JVM STREAM_MIB=$STREAM_MIB STREAM_RUNS=$STREAM_RUNS WI=$WI W=$W I=$I R=$R COLD_WARMUP=$COLD_WARMUP COLD_RUNS=$COLD_RUNS FRESH=$FRESH BULK_WARMUP=$BULK_WARMUP BULK_RUNS=$BULK_RUNS BULK_MIB=$BULK_MIB CT_WARMUP=$CT_WARMUP CT_RUNS=$CT_RUNS"
} >"$out_dir/machine.txt"
sed 's/^/bench: /' "$out_dir/machine.txt" >&2

jmh_opts=(--wi "$WI" --w "$W" --i "$I" --r "$R" --cold-warmup "$COLD_WARMUP" --cold-runs "$COLD_RUNS"
  --fresh-forks "$FRESH" --bulk-warmup "$BULK_WARMUP" --bulk-runs "$BULK_RUNS" --bulk-mib "$BULK_MIB"
  --container-warmup "$CT_WARMUP" --container-runs "$CT_RUNS")

# The image both container hosts run: plugincontainer's plugin-counter, static, FROM scratch,
# imported from a tar (no registry); rebuilt only when the binary changed.
image=goplugin4j-bench/plugin-counter
image_ready=0
ensure_image() {
  [ "$image_ready" -eq 1 ] && return 0
  if ! docker info >/dev/null 2>&1; then
    say "the container engine is not reachable: run scripts/setup-engine.sh as root first"
    return 1
  fi
  local hash current rootfs
  hash=$(sha256sum "$CONTAINER_PLUGIN" | cut -c1-32)
  current=$(docker image inspect --format '{{index .Config.Labels "dev.goplugin4j.bench.content"}}' "$image:latest" 2>/dev/null || true)
  if [ "$current" != "$hash" ]; then
    say "importing image $image:latest"
    rootfs=$(mktemp -d)
    mkdir -p "$rootfs/bin"
    cp "$CONTAINER_PLUGIN" "$rootfs/bin/go-plugin-counter"
    chmod 0755 "$rootfs/bin/go-plugin-counter"
    tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
      docker import --change 'ENTRYPOINT ["/bin/go-plugin-counter"]' \
        --change "LABEL dev.goplugin4j.bench.content=$hash" - "$image:latest" >/dev/null
    rm -rf "$rootfs"
  fi
  image_ready=1
}
# The Java counter plugin (examples/java-plugins, plugin SDK) in the SDK's image recipe, for the
# plugincontainer_java_plugin figures: plugincontainer's Go host runs it and the Go plugin's image
# alike. Built once per run; its size is a figure too (goal: <= 60 MB).
java_image=goplugin4j-bench/java-counter
java_image_ready=0
ensure_java_image() {
  [ "$java_image_ready" -eq 1 ] && return 0
  ensure_image || return 1
  say "building the Java counter plugin and its image ($java_image:latest, build-image.sh, JDK on PATH)"
  # the image builder is the CLI (goplugin4j image), which build-image.sh runs from cli/target
  mvn -q -B -ntp "${offline[@]}" -pl cli,examples/java-plugins -am package -Dmaven.test.skip=true >&2 || return 1
  local jhome json
  jhome=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p')
  json=$(DOCKER_BUILDKIT=0 sh examples/java-plugins/container/build-image.sh --dist "$root/examples/java-plugins/target/plugin" \
    --main dev.goplugin4j.examples.plugins.ContainerCounterPlugin --image "$java_image:latest" --java-home "$jhome" \
    2>"$out_dir/java-image.log") || { say "the Java plugin image failed: $(tail -5 "$out_dir/java-image.log")"; return 1; }
  echo "$json" >"$out_dir/java-image.json"
  local jsize gsize
  jsize=$(docker image inspect -f '{{.Size}}' "$java_image:latest")
  gsize=$(docker image inspect -f '{{.Size}}' "$image:latest")
  awk -v s="$jsize" 'BEGIN { mb = s / 1e6; printf "{\"figure\":\"plugin_image_size\",\"impl\":\"java\",\"better\":\"lower\",\"goal\":\"<= 60 MB\",\"goal_met\":%s,\"unit\":\"MB image\",\"value\":%.1f}\n", (mb <= 60 ? "true" : "false"), mb }' | tee -a "$figures"
  awk -v s="$gsize" 'BEGIN { printf "{\"figure\":\"plugin_image_size\",\"impl\":\"go\",\"better\":\"lower\",\"unit\":\"MB image\",\"value\":%.1f}\n", s / 1e6 }' | tee -a "$figures"
  java_image_ready=1
}
steady=(-warmup "$((WI * W))s" -duration "$((I * R))s" -workdir "$work")

# Runs one side of a group: appends its figure lines to figures.jsonl and prints them. Its
# TMPDIR is a directory of its own, removed after it: go-plugin's Go plugins put their sockets
# there (plugin*), and one killed by its host leaves its socket behind.
side() {
  local what=$1
  shift
  local tmp side_tmp
  tmp=$(mktemp)
  side_tmp=$(mktemp -d)
  chmod 0755 "$side_tmp"
  if TMPDIR="$side_tmp" "$@" >"$tmp"; then
    cat "$tmp" | tee -a "$figures"
  else
    say "NOT MEASURED: $what failed (exit $?); see the messages above"
    printf '{"figure":"%s","impl":"%s","error":"not measured: the run failed, see scripts/bench.sh stderr"}\n' \
      "${what%% *}" "${what##* }" >>"$out_dir/not-measured.jsonl"
    failed=1
  fi
  rm -f "$tmp"
  rm -rf "$side_tmp"
}

for g in $groups; do
  say "== group $g (load $(cut -d' ' -f1 /proc/loadavg))"
  echo "load at group $g: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out_dir/machine.txt"
  case "$g" in
    kv)
      side "kv_get_roundtrip java" bench_main run kv "${jmh_opts[@]}"
      side "kv_get_roundtrip_mtls go" "$gobin/kvhost" kv -plugin "$KV_PLUGIN" -mtls=true "${steady[@]}"
      side "kv_get_roundtrip_plain go" "$gobin/kvhost" kv -plugin "$KV_PLUGIN" -mtls=false "${steady[@]}"
      ;;
    counter)
      side "counter_put_brokered_nomux java" bench_main run counter "${jmh_opts[@]}"
      for m in true false; do
        side "counter_put_brokered_nomux_$([ $m = true ] && echo mtls || echo plain) go" "$gobin/counterhost" counter \
          -plugin "$COUNTER_PLUGIN" -mtls=$m "${steady[@]}"
      done
      ;;
    counter-mux)
      side "counter_put_brokered_mux java" bench_main run counter-mux "${jmh_opts[@]}"
      for m in true false; do
        side "counter_put_brokered_mux_$([ $m = true ] && echo mtls || echo plain) go" "$gobin/counterhost" counter \
          -mux -plugin "$COUNTER_PLUGIN" -mtls=$m "${steady[@]}"
      done
      ;;
    coldstart)
      side "plugin_cold_start java" bench_main run coldstart "${jmh_opts[@]}"
      for m in true false; do
        side "plugin_cold_start_$([ $m = true ] && echo mtls || echo plain) go" "$gobin/kvhost" coldstart \
          -plugin "$KV_PLUGIN" -mtls=$m -warmup-runs "$COLD_WARMUP" -runs "$COLD_RUNS" -workdir "$work"
      done
      ;;
    coldstart-fresh)
      side "plugin_cold_start_fresh_process java" bench_main run coldstart-fresh "${jmh_opts[@]}"
      for m in true false; do
        side "plugin_cold_start_fresh_process_$([ $m = true ] && echo mtls || echo plain) go" "$gobin/kvhost" \
          coldstart-fresh -plugin "$KV_PLUGIN" -mtls=$m -runs "$FRESH" -workdir "$work"
      done
      ;;
    fresh-jvm)
      # jars only (an AppCDS archive refuses a directory on the class path), copied: a jar
      # rebuilt under the run (a shared tree) would make every archive mismatch
      rm -rf "$work/fresh-jvm-lib" && mkdir -p "$work/fresh-jvm-lib"
      jar_cp=$(for j in "$(ls "$root"/benchmarks/target/goplugin4j-benchmarks-*.jar | head -1)" \
          $(tr ':' ' ' <"$root/benchmarks/target/classpath.txt"); do
        d="$work/fresh-jvm-lib/$(printf '%03d' "$((${n:-0}))")-$(basename "$j")"; n=$((${n:-0} + 1))
        cp "$j" "$d" && echo "$d"; done | paste -sd: -)
      j25=()
      [ -x "$java25" ] && j25=(--java25 "$java25")
      side "fresh_jvm_first_call java" bench_main fresh-jvm --runs "$FRESH_JVM" --cp "$jar_cp" "${j25[@]}"
      side "fresh_jvm_first_call_mtls go" "$gobin/kvhost" fresh-wall -plugin "$KV_PLUGIN" -mtls=true -runs "$FRESH_JVM" -workdir "$work"
      ;;
    host-cost)
      # the heap pinned and resident (HostCost's Javadoc): the RSS then moves with the plugins only
      side "host_cost java" bench_main_with -Xms256m -Xmx256m -XX:+AlwaysPreTouch -- host-cost
      side "host_cost go" "$gobin/kvhost" hostcost -plugin "$KV_PLUGIN" -mtls=true -workdir "$work"
      ;;
    streaming)
      for m in true false; do
        side "grpc_streaming java" bench_main streaming --size-mib "$STREAM_MIB" --warmup "$STREAM_WARMUP" \
          --runs "$STREAM_RUNS" --mtls "$m"
        side "grpc_streaming go" "$gobin/streamhost" stream -plugin "$STREAMING_PLUGIN" -size-mib "$STREAM_MIB" \
          -warmup-runs "$STREAM_WARMUP" -runs "$STREAM_RUNS" -mtls="$m" -workdir "$work"
      done
      ;;
    yamux)
      side "yamux_bulk java" bench_main run yamux "${jmh_opts[@]}"
      side "yamux_bulk go" "$gobin/yamuxbulk" bulk -size-mib "$BULK_MIB" -warmup-runs "$BULK_WARMUP" -runs "$BULK_RUNS" -dir "$work"
      ;;
    container-runc|container-runsc|container-runc-mux|container-runsc-mux)
      rt=${g#container-}
      rt=${rt%-mux}
      mux=false
      [ "${g%-mux}" != "$g" ] && mux=true
      if ! ensure_image; then
        printf '{"figure":"container_cold_start_%s","impl":"java","error":"not measured: engine not reachable"}\n' "$rt" >>"$out_dir/not-measured.jsonl"
        failed=1
      elif [ "$mux" = true ]; then
        side "container_cold_start_${rt}_mux java" bench_main run "$g" "${jmh_opts[@]}"
        side "container_cold_start_${rt}_mux go" "$gobin/containerhost" coldstart -mux -image "$image" -runtime "$rt" \
          -warmup-runs "$CT_WARMUP" -runs "$CT_RUNS"
      else
        side "container_cold_start_$rt java" bench_main run "$g" "${jmh_opts[@]}"
        side "container_cold_start_$rt go" "$gobin/containerhost" coldstart -image "$image" -runtime "$rt" \
          -warmup-runs "$CT_WARMUP" -runs "$CT_RUNS"
        side "engine_floor_api_$rt engine" "$gobin/containerhost" floor-api -image "$image" -runtime "$rt" \
          -warmup-runs "$CT_WARMUP" -runs "$CT_RUNS"
        side "engine_floor_docker_run_$rt engine" "$gobin/containerhost" floor -image "$image" -runtime "$rt" \
          -warmup-runs "$CT_WARMUP" -runs "$CT_RUNS"
      fi
      ;;
    containers32-runc|containers32-runsc)
      rt=${g#containers32-}
      if ! ensure_image; then
        printf '{"figure":"containers_32_first_calls_%s","impl":"java","error":"not measured: engine not reachable"}\n' "$rt" >>"$out_dir/not-measured.jsonl"
        failed=1
      else
        side "containers_32_first_calls_$rt java" bench_main containers-many --runtime "$rt" --count 32 --warmup 1 --runs "$MANY_RUNS"
        side "containers_32_first_calls_$rt go" "$gobin/containerhost" many -image "$image" -runtime "$rt" -count 32 \
          -warmup-runs 1 -runs "$MANY_RUNS"
      fi
      ;;
    plugincontainer-java-runc|plugincontainer-java-runsc)
      rt=${g#plugincontainer-java-}
      if ! ensure_java_image; then
        printf '{"figure":"plugincontainer_java_plugin_first_call_%s","impl":"java","error":"not measured: the Java plugin image could not be built"}\n' "$rt" >>"$out_dir/not-measured.jsonl"
        failed=1
      else
        # both under plugincontainer v0.4.2's Go host (go-plugin v1.8.0): the Java plugin's image
        # against the Go counter plugin's, create + start to the first brokered Increment
        side "plugincontainer_java_plugin_first_call_$rt java" "$gobin/containerhost" coldstart -image "$java_image" \
          -runtime "$rt" -impl java -figure "plugincontainer_java_plugin_first_call_$rt" -warmup-runs "$CT_WARMUP" -runs "$CT_RUNS"
        side "plugincontainer_java_plugin_first_call_$rt go" "$gobin/containerhost" coldstart -image "$image" \
          -runtime "$rt" -impl go -figure "plugincontainer_java_plugin_first_call_$rt" -warmup-runs "$CT_WARMUP" -runs "$CT_RUNS"
      fi
      ;;
    *)
      say "unknown group $g"
      exit 2
      ;;
  esac
done

echo "load after run: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out_dir/machine.txt"
say "load after run: $(cut -d' ' -f1-3 /proc/loadavg)"
say "== ratios (Java/Go)"
bench_main ratios "$figures" | tee "$out_dir/ratios.jsonl"
bench_main table "$figures" >"$out_dir/table.md"
say "table for docs/benchmarks.md: $out_dir/table.md"
exit "$failed"
