#!/bin/bash
# Sets up everything the tests need (container engine with runc and gVisor, toolchain) and runs
# every test: unit tests and integration tests against real Go plugins and the real engine, then
# the quick start's demo with the Go and the Java counter plugin.
# Then builds and runs the unit tests and the engine-free integration tests once more on JDK 25
# (required when CI=true), and fails if any container, socket directory or socket outlived them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
scripts/check-toolchain.sh
if [ "$(id -u)" -eq 0 ]; then
  # rootful Docker with runc and runsc, rootless Docker and Podman: the whole test matrix
  scripts/setup-engine.sh --all
else
  echo "test: not root: assuming the engine is already set up (scripts/setup-engine.sh as root does it)"
fi
started=$(mktemp /tmp/goplugin4j-test-started.XXXXXX)
trap 'rm -f "$started"' EXIT
mvn -B -ntp verify "$@"
# The quick start's first command, both plugins: it ends with 1, 3, 2 and checks that no
# container and no socket directory is left behind.
if [ "$(id -u)" -eq 0 ]; then
  DEMO_PLUGIN=go scripts/demo.sh
  DEMO_PLUGIN=java scripts/demo.sh
fi

# JDK 25: the whole build, the unit tests and the integration tests that need no container
# engine (process plugins, Go and Python peers, yamux conformance) once more. CI has it; a user's
# machine may not, which only skips this second pass, saying so.
jdk25=$(ls -d /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25-* 2>/dev/null | head -1 || true)
if [ -n "$jdk25" ]; then
  echo "test: building on $jdk25: unit tests, then the engine-free integration tests"
  JAVA_HOME=$jdk25 mvn -B -ntp -q install -DskipITs "$@"
  JAVA_HOME=$jdk25 mvn -B -ntp -q verify -pl protocol,interop-tests -Dtest=NoUnitTestsHere \
    -Dsurefire.failIfNoSpecifiedTests=false "$@"
elif [ "${CI:-}" = true ]; then
  echo "test: ERROR: no JDK 25 under /usr/lib/jvm: CI must build and test on JDK 25 too" >&2
  exit 1
else
  echo "test: no JDK 25 under /usr/lib/jvm: skipping the JDK 25 pass (CI runs it)"
fi

# What a release publishes (jars, sources, Javadoc, signatures, metadata, the same bytes twice)
# and what a user's project gets from the BOM (one protobuf/gRPC/SLF4J version; docs/maven.md's
# plugin and host projects build offline and run).
scripts/check-publish.sh "$@"

# Nothing may outlive the tests: no plugin container on any engine, no socket directory or
# socket the tests' plugins made (under /tmp, newer than the start of this run).
leftovers=0
for host in unix:///var/run/docker.sock unix:///run/podman/podman.sock unix:///run/podman/podman-runsc.sock; do
  [ -S "${host#unix://}" ] || continue
  left=$(docker -H "$host" ps -aq --filter label=dev.goplugin4j.managed 2>/dev/null || true)
  if [ -n "$left" ]; then
    echo "test: ERROR: plugin container(s) left on $host: $(echo $left)" >&2
    docker -H "$host" ps -a --filter label=dev.goplugin4j.managed >&2 || true
    leftovers=1
  fi
done
for uid_dir in /run/user/*; do
  for sock in "$uid_dir/docker.sock" "$uid_dir/podman/podman.sock" "$uid_dir/podman/podman-runsc.sock"; do
    [ -S "$sock" ] || continue
    left=$(docker -H "unix://$sock" ps -aq --filter label=dev.goplugin4j.managed 2>/dev/null || true)
    if [ -n "$left" ]; then
      echo "test: ERROR: plugin container(s) left on unix://$sock: $(echo $left)" >&2
      leftovers=1
    fi
  done
done
# A host's socket directory (goplugin4j-<digits>) must be gone, empty or not; other goplugin4j-*
# entries (fixed base directories of the tests) must be empty; a plugin's socket must be gone.
stale=$(find /tmp -mindepth 1 -maxdepth 2 -newer "$started" ! -path "$started" \( \
  \( -type d -name 'goplugin4j-[0-9]*' \) -o \( -type d -name 'goplugin4j-*' ! -empty \) -o \
  \( -type s \( -name 'plugin[0-9]*' -o -path '*/goplugin4j-*' \) \) \) 2>/dev/null || true)
if [ -n "$stale" ]; then
  echo "test: ERROR: socket directories or sockets left behind by the tests:" >&2
  echo "$stale" >&2
  leftovers=1
fi
[ "$leftovers" -eq 0 ] || exit 1
echo "test: all passed; no container, socket directory or socket left behind"
