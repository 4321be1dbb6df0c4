#!/bin/bash
# Sets up everything the tests need (container engine with runc and gVisor, toolchain) and runs
# every test: unit tests and integration tests against real Go plugins and the real engine, then
# the quick start's demo with the Go and the Java counter plugin.
# Then builds and runs the unit tests once more on JDK 25 when it is installed.
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
mvn -B -ntp verify "$@"
# The quick start's first command, both plugins: it ends with 1, 3, 2 and checks that no
# container and no socket directory is left behind.
if [ "$(id -u)" -eq 0 ]; then
  DEMO_PLUGIN=go scripts/demo.sh
  DEMO_PLUGIN=java scripts/demo.sh
fi
jdk25=$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -1 || true)
if [ -n "$jdk25" ]; then
  echo "test: building and running unit tests on $jdk25"
  JAVA_HOME=$jdk25 mvn -B -ntp -q -DskipITs verify "$@"
fi
