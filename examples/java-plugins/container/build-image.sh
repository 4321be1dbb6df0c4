#!/bin/sh
# Builds the minimal container image of a Java go-plugin plugin with `goplugin4j image`, the CLI's
# image builder (cli/.../ImageCommand: jlink runtime with the modules the plugin needs, the C
# libraries it links, FROM scratch, USER 65532:65532, no shell, and an AppCDS archive trained and
# dumped in the image itself). This script only adapts the source tree's layout and its callers
# (examples' ITs, scripts/demo.sh, scripts/bench.sh) to that command: one recipe, in the CLI.
#
# Usage: build-image.sh --dist DIR --main CLASS --image NAME:TAG
#          [--java-home DIR] [--no-cds] [--jvm-opts "OPTS"] [--add-modules m1,m2]
#          [--keep-modules m1,m2] [--user UID:GID] [--engine ENDPOINT]
#   --dist       a plugin layout with lib/*.jar (e.g. examples/java-plugins/target/plugin)
#   --main       the plugin's main class
#   --image      the image to build; unless --no-cds, NAME:TAG-nocds (the same base layer with
#                the JDK's default CDS archive instead of the plugin's) is tagged too
#   --java-home  the JDK whose runtime goes into the image, which also runs the CLI (default:
#                $JAVA_HOME, else the one on PATH); 17 or newer, with its jmods or (JDK 24+) a
#                linkable run-time image
#   --jvm-opts   JVM options of the entrypoint (default: the CLI's)
#   --add-modules / --keep-modules  JDK modules to add (java.sql and jdk.jfr are left out unless named)
#   --user       the image's user (default the CLI's, 65532:0: a host must make its socket
#                directory writable for group 0 or give the container its own group)
# The CLI is cli/target/goplugin4j-cli-*-all.jar of this tree (mvn -pl cli -am package), or
# $GOPLUGIN4J_CLI_JAR. Prints the CLI's JSON object (one line) with the image, its ID and sizes.
set -eu

DIST=
MAIN=
IMAGE=
CDS=1
EXTRA_MODULES=
JVM_OPTS=
HAVE_JVM_OPTS=0
ENGINE=
USER_ARG=
JHOME=${JAVA_HOME:-}

die() {
  echo "build-image.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --main) MAIN=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --java-home) JHOME=$2; shift 2 ;;
    --no-cds) CDS=0; shift ;;
    --jvm-opts) JVM_OPTS=$2; HAVE_JVM_OPTS=1; shift 2 ;;
    --add-modules|--keep-modules) EXTRA_MODULES=${EXTRA_MODULES:+$EXTRA_MODULES,}$2; shift 2 ;;
    --engine) ENGINE=$2; shift 2 ;;
    --user) USER_ARG=$2; shift 2 ;;
    --keep-work) echo "build-image.sh: --keep-work is gone (the CLI keeps no work directory)" >&2; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$DIST" ] || die "--dist is required"
[ -n "$MAIN" ] || die "--main is required"
[ -n "$IMAGE" ] || die "--image is required"
[ -d "$DIST/lib" ] || die "$DIST/lib does not exist: build the plugin first (mvn package)"
if [ -z "$JHOME" ]; then
  JHOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
fi
[ -x "$JHOME/bin/java" ] || die "no $JHOME/bin/java: --java-home must point to a JDK"

CLI_JAR=${GOPLUGIN4J_CLI_JAR:-}
if [ -z "$CLI_JAR" ]; then
  TREE=$(cd "$(dirname "$0")/../../.." && pwd)
  CLI_JAR=$(ls -t "$TREE"/cli/target/goplugin4j-cli-*-all.jar 2>/dev/null | head -1 || true)
  [ -n "$CLI_JAR" ] || die "no $TREE/cli/target/goplugin4j-cli-*-all.jar: build the CLI first (mvn -pl cli -am package -DskipTests), or set GOPLUGIN4J_CLI_JAR"
fi

set -- image --main "$MAIN" --image "$IMAGE" --java-home "$JHOME" --json
if [ "$CDS" = 0 ]; then
  set -- "$@" --no-cds
else
  set -- "$@" --nocds-image "$IMAGE-nocds"
fi
[ "$HAVE_JVM_OPTS" = 0 ] || set -- "$@" --jvm-opts "$JVM_OPTS"
[ -z "$EXTRA_MODULES" ] || set -- "$@" --add-modules "$EXTRA_MODULES"
[ -z "$ENGINE" ] || set -- "$@" --engine "$ENGINE"
[ -z "$USER_ARG" ] || set -- "$@" --user "$USER_ARG"
# the JDK of the image runs the CLI, so that its jlink runs in-process
exec "$JHOME/bin/java" -jar "$CLI_JAR" "$@" "$DIST/lib"
