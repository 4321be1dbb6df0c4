#!/bin/bash
# The quick start's main job, from a fresh Debian 12 machine (as root):
#   1. checks the toolchain and installs/starts what is missing (Docker Engine, gVisor runsc),
#   2. builds the project,
#   3. builds the counter plugin image locally (no registry): plugincontainer's Go counter
#      example, statically linked, FROM scratch, when Go 1.24+ is installed; else our Java
#      counter plugin (plugin SDK) in a jlink image FROM scratch (DEMO_PLUGIN=go|java chooses),
#   4. runs a Java host that starts the plugin in a gVisor container (runc when gVisor is not
#      available, saying so), pinned by image ID, without network, with memory/CPU/pids caps, and
#      increments ("hello",1), ("hello",2), ("world",2) through broker-backed storage: 1, 3, 2,
#   5. checks that nothing was left behind (no container, no socket directory).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

# The demo plugin: plugincontainer's Go counter when Go 1.24+ is here, else our Java counter
# plugin (plugin SDK) in a jlink image. DEMO_PLUGIN=go or DEMO_PLUGIN=java chooses.
PLUGIN=${DEMO_PLUGIN:-auto}
if [ "$PLUGIN" = auto ]; then
  PLUGIN=java
  if command -v go >/dev/null 2>&1; then
    gv=$(go env GOVERSION 2>/dev/null | sed 's/^go//'); rest=${gv#*.}
    if [ "${gv%%.*}" -gt 1 ] 2>/dev/null || [ "${rest%%.*}" -ge 24 ] 2>/dev/null; then PLUGIN=go; fi
  fi
  say "demo plugin: $PLUGIN (DEMO_PLUGIN=go|java to choose)"
fi
case "$PLUGIN" in
  go) scripts/check-toolchain.sh ;;
  java) scripts/check-toolchain.sh --without-go ;;
  *) die "DEMO_PLUGIN must be go or java, got $PLUGIN" ;;
esac
if [ "$(id -u)" -eq 0 ]; then
  scripts/setup-engine.sh
else
  docker info >/dev/null 2>&1 || die "the Docker engine is not reachable; run scripts/setup-engine.sh as root first"
fi

say "building goplugin4j (mvn install, tests skipped: scripts/test.sh runs them)"
mvn -B -ntp -q install -DskipTests

work=target/demo
mkdir -p "$work"
if [ "$PLUGIN" = go ]; then
  IMAGE=goplugin4j-demo-counter
  TAG=latest
  MEMORY_MIB=64
  mkdir -p "$work/go"
  say "building the counter plugin (plugincontainer v0.4.2 examples/container/plugin-counter) with Go"
  (
    cd "$work/go"
    export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
    [ -f go.mod ] || go mod init goplugin4j-demo >/dev/null 2>&1
    go get github.com/hashicorp/go-secure-stdlib/plugincontainer@v0.4.2 >/dev/null 2>&1
    go build -trimpath -ldflags='-s -w' -o ../plugin-counter \
      github.com/hashicorp/go-secure-stdlib/plugincontainer/examples/container/plugin-counter
  )
  cat > "$work/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY plugin-counter /plugin-counter
ENTRYPOINT ["/plugin-counter"]
DOCKERFILE
  say "building image $IMAGE:$TAG locally"
  out=$(docker build -q -t "$IMAGE:$TAG" "$work" 2>&1) || die "docker build failed: $out"
else
  IMAGE=goplugin4j-demo-counter-java
  TAG=latest
  MEMORY_MIB=256   # a JVM with its class-data archive needs more than a Go binary
  CPUS_DEFAULT=2   # and two cores to start: its start is CPU-bound (see the quota below)
  JHOME=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p')
  say "building the Java counter plugin image (jlink runtime, FROM scratch, AppCDS) with $JHOME"
  DOCKER_BUILDKIT=0 sh examples/java-plugins/container/build-image.sh \
    --dist "$PWD/examples/java-plugins/target/plugin" \
    --main dev.goplugin4j.examples.plugins.ContainerCounterPlugin \
    --image "$IMAGE:$TAG" --java-home "$JHOME" >"$work/java-image.json" \
    2>"$work/java-image.log" || die "building the Java plugin image failed: $(tail -20 "$work/java-image.log")"
  say "image: $(cat "$work/java-image.json")"
fi
ID=$(docker image inspect --format '{{.Id}}' "$IMAGE:$TAG")
say "image $IMAGE:$TAG is $ID"

RUNTIME=runc
if docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
  RUNTIME=runsc
else
  say "gVisor (runsc) is not registered with the engine: using runc (run scripts/setup-engine.sh as root to add it)"
fi

# The host makes its socket directories under java.io.tmpdir: a directory of the demo's own, so
# that the check at the end sees this demo's leftovers only (other goplugin4j hosts on the machine
# make theirs in /tmp). find, unlike ls, succeeds when there are none.
host_tmp=$(mktemp -d /tmp/demo-host.XXXXXX)
chmod 755 "$host_tmp"
trap 'rm -rf "$host_tmp"' EXIT
socket_dirs() { find "$host_tmp" -mindepth 1 -maxdepth 1 -name 'goplugin4j-*' 2>/dev/null | wc -l; }
CP="$(cat examples/demo/target/classpath.txt):$PWD/examples/demo/target/goplugin4j-demo-0.1.0-SNAPSHOT.jar"
# The container's CPU quota: half a core for the Go plugin, the hardened default the demo shows;
# two for the Java plugin, whose start is CPU-bound and, since the SDK binds its server while
# another thread makes its key and certificate, runs on two threads at once: under runsc it
# reached its handshake line in 1.65 s at 0.5 CPU, 0.92 s at 1 CPU (medians of 4 interleaved runs,
# load ~8.5, 2026-12-03), and 0.93 s at 1 CPU against 0.56-0.62 s at 2 CPUs, the whole start
# 1.77-1.84 s against 1.43-1.46 s (3 interleaved pairs, load ~2.5, 2026-12-03 18:00Z). The demo
# line names the limits; DEMO_CPUS=0.5 (or 0: no limit) to compare.
CPUS=${DEMO_CPUS:-${CPUS_DEFAULT:-0.5}}
DEMO_ARGS=(--image "$IMAGE" --tag "$TAG" --sha256 "$ID" --runtime "$RUNTIME" --memory-mib "$MEMORY_MIB" --cpus "$CPUS")
# The host JVM's start-up recipe, the whole of docs/startup.md's:
#  - the jars copied into target/demo/host-classpath/lib, again only when their content changed
#    (`mvn install` writes every jar anew, and the JVM drops an archive whose jars changed time:
#    the archive was trained again at every run), the signed ones (BouncyCastle's, ACCP's) without
#    their signature files and with their manifest cut to its main section, so that the JVM
#    neither verifies them at their first class load nor leaves them out of the archive; ACCP's
#    native library unpacked once into a directory it is loaded from (useExternalLib) instead of
#    into a new temporary directory at every start. A small Java step of the demo (HostClassPath:
#    the JDK alone, no unzip or zip);
#  - a static AppCDS archive of the classes the demo loads on that class path (class list from one
#    training run of the demo itself, then -Xshare:dump; the lambda-proxy entries are left out:
#    JDK 17.0.15 crashes dumping them);
#  - only the quick JIT compiler (a short-lived host).
# The archive is made again when a copy is newer or the class path changed. DEMO_JVM_RECIPE=0
# runs a plain `java` on the jars as published instead.
JVM_OPTS=(-Djava.io.tmpdir="$host_tmp")
# recipe item 6: Netty's JFR events off (the first pooled buffer would register them, 40-90 ms)
if [ "${DEMO_JVM_RECIPE:-1}" = 1 ]; then
  JVM_OPTS+=(-Dio.grpc.netty.shaded.io.netty.jfr.enabled=false)
fi
# newer_than FILE: the jars of $CP newer than FILE (none when FILE is newer than all)
newer_than() { echo "$CP" | tr ':' '\n' | while read -r j; do [ "$j" -nt "$1" ] && echo "$j"; done; }
if [ "${DEMO_JVM_RECIPE:-1}" = 1 ]; then
  hostcp=$PWD/$work/host-classpath
  if java -XX:TieredStopAtLevel=1 -cp "$CP" dev.goplugin4j.examples.demo.HostClassPath "$hostcp" "$CP" \
       >"$work/host-classpath.txt" 2>"$work/host-classpath.log"; then
    [ ! -s "$work/host-classpath.log" ] || say "host class path (docs/startup.md): $(cat "$work/host-classpath.log")"
    CP=$(cat "$work/host-classpath.txt")
    if [ -s "$hostcp/native/libamazonCorrettoCryptoProvider.so" ]; then
      JVM_OPTS+=(-Djava.library.path="$hostcp/native" -Dcom.amazon.corretto.crypto.provider.useExternalLib=true)
    fi
  else
    say "could not copy the class path (the demo runs on the jars as published): $(tail -3 "$work/host-classpath.log")"
  fi
  JVM_OPTS+=(-XX:TieredStopAtLevel=1)
  ARCHIVE=$PWD/$work/host-$(java -version 2>&1 | head -1 | tr -dc '0-9._-').jsa
  if [ ! -s "$ARCHIVE" ] || [ "$(cat "$ARCHIVE.classpath" 2>/dev/null)" != "$CP" ] || [ -n "$(newer_than "$ARCHIVE")" ]; then
    say "building the host JVM's class-data archive (once; docs/startup.md): a training run of the demo, then -Xshare:dump"
    rm -f "$ARCHIVE" "$ARCHIVE.classpath" "$work/host.classlist"
    if java "${JVM_OPTS[@]}" -XX:DumpLoadedClassList="$work/host.classlist" -cp "$CP" \
         dev.goplugin4j.examples.demo.CounterDemo "${DEMO_ARGS[@]}" >"$work/training.log" 2>&1; then
      grep -v '^@lambda-proxy' "$work/host.classlist" >"$work/host.classlist.static"
      if java -Xshare:dump -XX:SharedClassListFile="$work/host.classlist.static" -XX:SharedArchiveFile="$ARCHIVE" \
           -Xlog:cds=off -cp "$CP" >"$work/dump.log" 2>&1; then
        printf '%s\n' "$CP" >"$ARCHIVE.classpath"
      else
        say "the archive dump failed (the demo runs without it): $(tail -3 "$work/dump.log")"
        rm -f "$ARCHIVE"
      fi
    else
      say "the training run failed (the demo runs without the archive): $(tail -3 "$work/training.log")"
    fi
  fi
  [ -s "$ARCHIVE" ] && JVM_OPTS+=(-XX:SharedArchiveFile="$ARCHIVE")
  say "host JVM options: ${JVM_OPTS[*]}"
fi
say "running the Java host: counter plugin in a $RUNTIME container"
java "${JVM_OPTS[@]}" -Dgoplugin4j.demo.launchedAtMillis="$(date +%s%3N)" -cp "$CP" \
  dev.goplugin4j.examples.demo.CounterDemo "${DEMO_ARGS[@]}"

# this demo's containers only (its image): other goplugin4j users of the engine may have their own
left=$(docker ps -aq --filter label=dev.goplugin4j.plugin --filter "ancestor=$ID" | wc -l)
[ "$left" -eq 0 ] || die "$left plugin container(s) left behind"
[ "$(socket_dirs)" -eq 0 ] || die "a socket directory was left behind in $host_tmp"
say "done: no container and no socket directory left behind"
