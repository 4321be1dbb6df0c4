#!/bin/sh
# Builds a minimal container image for a Java go-plugin plugin, without any image registry:
#   1. jdeps finds the JDK modules the plugin's jars need (+ jdk.crypto.ec for AutoMTLS's P-521);
#   2. jlink makes a runtime with only those (debug info, man pages, headers, the JDK's own CDS
#      archives and native symbol tables left out; java.sql, which only optional code of gson
#      and protobuf-java-util references, and with it java.xml, left out unless --keep-modules);
#   3. the C libraries that runtime links (glibc, libstdc++, zlib, ...) are copied from this
#      machine at the same paths, next to the runtime and the plugin's jars (without the native
#      libraries for other platforms and Netty's unused tcnative), into a root fs;
#   4. "FROM scratch" + that root fs gives image NAME:TAG-nocds;
#   5. unless --no-cds: a training run of the plugin in that image (the SDK's
#      GOPLUGIN4J_CDS_TRAINING mode: handshake, AutoMTLS, health, stdio, broker both ways,
#      Shutdown) lists the classes it loads, one static AppCDS archive of exactly those (JDK and
#      plugin classes; lambda proxies left out: JDK 17.0.15 crashes dumping them) is dumped in
#      the image, and NAME:TAG is the root fs with that archive instead of the JDK's base one,
#      used by the entrypoint. The -nocds image keeps the JDK's base archive.
# The host's libc is copied, so build on a machine like the ones that build the runtime (here:
# Debian 12, glibc 2.36); the image needs nothing else at run time.
#
# Usage: build-image.sh --dist DIR --main CLASS --image NAME:TAG
#          [--java-home DIR] [--no-cds] [--jvm-opts "OPTS"] [--add-modules m1,m2]
#          [--keep-modules m1,m2] [--keep-work]
#   --dist       a plugin layout with lib/*.jar (e.g. examples/java-plugins/target/plugin)
#   --main       the plugin's main class
#   --image      the image to build; NAME:TAG-nocds is built too
#   --java-home  the JDK whose jdeps/jlink/libraries to use (default: $JAVA_HOME, else the one
#                on PATH); 17 or newer, with its jmods or (JDK 24+) a linkable run-time image
#   --jvm-opts   JVM options of the entrypoint (default below)
#   --keep-modules  keep modules this script leaves out by default (java.sql)
# Prints one JSON line with the image, its size and what went in.
set -eu

DIST=
MAIN=
IMAGE=
CDS=1
KEEP=0
EXTRA_MODULES=
KEEP_MODULES=
# -Xlog: the JVM writes its own warnings to stdout by default, where the host expects the
# handshake line; send them to stderr
JVM_OPTS="-Xlog:disable -Xlog:all=warning:stderr -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData"
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
    --jvm-opts) JVM_OPTS=$2; shift 2 ;;
    --add-modules) EXTRA_MODULES=$2; shift 2 ;;
    --keep-modules) KEEP_MODULES=$2; shift 2 ;;
    --keep-work) KEEP=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$DIST" ] || die "--dist is required"
[ -n "$MAIN" ] || die "--main is required"
[ -n "$IMAGE" ] || die "--image is required"
case "$IMAGE" in *:*) ;; *) die "--image must be NAME:TAG" ;; esac
[ -d "$DIST/lib" ] || die "$DIST/lib does not exist: build the plugin first (mvn package)"
DIST=$(cd "$DIST" && pwd)
if [ -z "$JHOME" ]; then
  JHOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
fi
[ -x "$JHOME/bin/jlink" ] || die "no jlink in $JHOME/bin: --java-home must point to a full JDK"
JDK_FEATURE=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$JHOME/release" 2>/dev/null || true)
[ -n "$JDK_FEATURE" ] || die "cannot read the Java version from $JHOME/release: --java-home must point to a full JDK"
[ "$JDK_FEATURE" -ge 17 ] || die "$JHOME is Java $JDK_FEATURE: the plugin SDK needs Java 17 or newer"
if [ ! -d "$JHOME/jmods" ] && [ "$JDK_FEATURE" -lt 24 ]; then
  die "no $JHOME/jmods: install the JDK's jmods (Debian: openjdk-$JDK_FEATURE-jmods)"
fi
if [ "$JDK_FEATURE" -ge 24 ]; then
  # JDK 24+ warns on stderr (the host logs it as the plugin's output) when Netty loads its epoll
  # library and when protobuf uses sun.misc.Unsafe: both are expected here
  JVM_OPTS="$JVM_OPTS --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
fi
command -v docker >/dev/null || die "docker is required"

WORK=$(mktemp -d /tmp/gp4j-image.XXXXXX)
if [ "$KEEP" = 0 ]; then
  trap 'rm -rf "$WORK"' EXIT
else
  echo "work directory: $WORK" >&2
fi
ROOT=$WORK/rootfs
mkdir -p "$ROOT/app/lib" "$ROOT/tmp"
chmod 1777 "$ROOT/tmp"

# 1. modules: analyse the jars' classes on the class path (the SDK's jars are modular, the
#    gRPC ones automatic modules; class-path analysis is what the plugin actually runs with)
mkdir "$WORK/classes"
for jar in "$DIST"/lib/*.jar; do
  (cd "$WORK/classes" && unzip -qo "$jar" 2>/dev/null) || die "cannot unpack $jar"
done
find "$WORK/classes" -name module-info.class -delete
MODULES=$("$JHOME/bin/jdeps" --ignore-missing-deps --multi-release 17 --print-module-deps \
  "$WORK/classes" 2>"$WORK/jdeps.log") || die "jdeps failed: $(cat "$WORK/jdeps.log")"
# jdk.crypto.ec: the JDK's EC provider (AutoMTLS uses P-521), found by service lookup, which
# jdeps cannot see
MODULES="$MODULES,jdk.crypto.ec${EXTRA_MODULES:+,$EXTRA_MODULES}"
# java.sql: referenced only by optional code (gson's java.sql.Date adapters, which it loads only
# when the module is there; protobuf-java-util's Timestamps helpers, unused by the SDK); leaving
# it out leaves out java.xml and java.transaction.xa too (~10 MB uncompressed). The training
# run below exercises the plugin's whole protocol, so a class missing on that path fails the
# build, not the plugin.
for m in java.sql; do
  case ",$KEEP_MODULES," in *",$m,"*) continue ;; esac
  case ",$EXTRA_MODULES," in *",$m,"*) continue ;; esac
  MODULES=$(echo ",$MODULES," | sed "s/,$m,/,/; s/^,//; s/,$//")
done

# 2. the runtime (JDK 21 renamed --compress=2 to zip-6; a JDK 24+ without jmods links from its
#    own run-time image, if it was built to allow that)
if [ "$JDK_FEATURE" -ge 21 ]; then COMPRESS=zip-6; else COMPRESS=2; fi
"$JHOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
  --compress=$COMPRESS --generate-cds-archive --output "$ROOT/opt/java" >"$WORK/jlink.log" 2>&1 \
  || die "jlink failed$([ -d "$JHOME/jmods" ] || echo " (no $JHOME/jmods, and this JDK may not link from its run-time image: install its jmods)"): $(cat "$WORK/jlink.log")"

# 2a. only the base CDS archive for compressed oops is used (heaps under 32 GB, which a plugin's
#     is); native symbol tables are not needed to run (jlink's --strip-native-debug-symbols
#     needs objcopy and handles only separate debug info)
rm -f "$ROOT"/opt/java/lib/server/classes_nocoops*.jsa "$ROOT"/opt/java/lib/server/classes_coh*.jsa
if command -v strip >/dev/null 2>&1; then
  find "$ROOT/opt/java" -name '*.so' -exec strip --strip-unneeded {} \; 2>/dev/null || true
fi

# 2b. security providers: java.security lists twelve, from modules the runtime may lack; the JDK
#     then looks each missing one up with a ServiceLoader over the class path, which loads and
#     instantiates every provider it finds there (BouncyCastle: ~650 classes from a signed jar,
#     ~200 ms of start-up). Keep only the providers whose module is in the runtime.
SECURITY="$ROOT/opt/java/conf/security/java.security"
"$ROOT/opt/java/bin/java" --list-modules | sed 's/@.*//' >"$WORK/runtime-modules"
awk -v mods="$WORK/runtime-modules" '
  BEGIN {
    while ((getline m < mods) > 0) have[m] = 1
    split("SUN=java.base SunRsaSign=java.base SunEC=jdk.crypto.ec SunJSSE=java.base SunJCE=java.base SunJGSS=java.security.jgss SunSASL=java.security.sasl XMLDSig=java.xml.crypto SunPCSC=java.smartcardio JdkLDAP=java.naming JdkSASL=jdk.security.jgss SunPKCS11=jdk.crypto.cryptoki", pairs, " ")
    for (i in pairs) { split(pairs[i], kv, "="); module[kv[1]] = kv[2] }
    n = 0
  }
  /^security\.provider\.[0-9]+=/ {
    name = substr($0, index($0, "=") + 1); split(name, words, " ")
    if (!(words[1] in module) || (module[words[1]] in have)) print "security.provider." (++n) "=" name
    next
  }
  { print }
' "$SECURITY" >"$WORK/java.security" && cat "$WORK/java.security" >"$SECURITY"

# 3. the C libraries the runtime and the jars' native code (Netty's epoll) link, at the paths the
#    dynamic loader looks in
for f in "$ROOT/opt/java/bin/java" $(find "$ROOT/opt/java/lib" "$WORK/classes" -name '*.so'); do
  ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^[[:space:]]*\/.*ld-linux/ {print $1}'
done | sort -u >"$WORK/libs"
while read -r lib; do
  case "$lib" in "$ROOT"*) continue ;; esac
  mkdir -p "$ROOT$(dirname "$lib")"
  cp -L "$lib" "$ROOT$lib"
done <"$WORK/libs"

# 4. the plugin, with an explicit class path (an AppCDS archive checks it), and the jars' native
#    libraries for this machine's architecture unpacked into /app/native: Netty loads from
#    java.library.path first, so it need not extract its epoll library into /tmp at every start
#    (which fails where /tmp is mounted noexec, as hardened runners do)
cp "$DIST"/lib/*.jar "$ROOT/app/lib/"
# native libraries inside the jars: the epoll one for this machine is unpacked into /app/native
# below; the rest (other platforms, Netty's tcnative/BoringSSL, which goplugin4j does not use:
# its TLS is the JDK's or BouncyCastle's) only take space (~7 MB in grpc-netty-shaded)
if command -v zip >/dev/null 2>&1; then
  for jar in "$ROOT"/app/lib/*.jar; do
    if unzip -l "$jar" 2>/dev/null | grep -q 'META-INF/native/[^/]*\.\(so\|jnilib\|dll\)$'; then
      zip -q -d "$jar" 'META-INF/native/*.so' 'META-INF/native/*.jnilib' 'META-INF/native/*.dll' >/dev/null 2>&1 || true
    fi
  done
fi
CP=$(cd "$ROOT" && ls app/lib/*.jar | sed 's#^#/#' | paste -sd: -)
mkdir -p "$ROOT/app/native"
case "$(uname -m)" in aarch64) ARCH=aarch_64 ;; *) ARCH=$(uname -m) ;; esac
if [ -d "$WORK/classes/META-INF/native" ]; then
  find "$WORK/classes/META-INF/native" -maxdepth 1 -name "*transport_native_epoll_$ARCH.so" \
    -exec cp {} "$ROOT/app/native/" \;
fi
JVM_OPTS="$JVM_OPTS -Djava.library.path=/app/native"

# 4b. AutoMTLS's native crypto path (docs/tls.md) needs Amazon Corretto Crypto Provider *and*
#     BouncyCastle's JSSE (bctls, bcprov, bcutil). Without bctls on the class path the SDK uses
#     the JDK's crypto (one INFO line) and ACCP's jar (3 MB, a 10 MB library inside) is dead
#     weight: left out. With both, ACCP's library is unpacked into /app/native and loaded from
#     there (useExternalLib): ACCP would otherwise extract it into java.io.tmpdir at every start,
#     which fails where /tmp is noexec (then the SDK falls back to the JDK's crypto).
ACCP_JAR=$(ls "$ROOT"/app/lib/AmazonCorrettoCryptoProvider-*.jar 2>/dev/null | head -1 || true)
if [ -n "$ACCP_JAR" ]; then
  if ls "$ROOT"/app/lib/bctls-*.jar >/dev/null 2>&1; then
    (cd "$ROOT/app/native" && unzip -qjo "$ACCP_JAR" 'com/amazon/corretto/crypto/provider/libamazonCorrettoCryptoProvider.so') \
      || die "cannot unpack ACCP's native library from $ACCP_JAR"
    JVM_OPTS="$JVM_OPTS -Dcom.amazon.corretto.crypto.provider.useExternalLib=true"
    NATIVE_CRYPTO=accp
  else
    rm -f "$ACCP_JAR"
    NATIVE_CRYPTO=none
  fi
else
  NATIVE_CRYPTO=none
fi
CP=$(cd "$ROOT" && ls app/lib/*.jar | sed 's#^#/#' | paste -sd: -)

json_args() {
  # the entrypoint as a JSON array: java, options, -cp, class path, main class
  printf '"/opt/java/bin/java"'
  for o in "$@" $JVM_OPTS; do printf ', "%s"' "$o"; done
  printf ', "-cp", "%s", "%s"' "$CP" "$MAIN"
}

# 4a. the JDK's base CDS archive goes in a layer of its own, on top of the layer with the runtime
#     and jars, so both images below share that layer byte for byte. An AppCDS archive records
#     each jar's mtime, and the engine's layer cache matches COPY by content, not mtime: an image
#     rebuilt from a fresh root fs can reuse an older layer whose jars carry older times, so the
#     archive is dumped in, and shipped on top of, the very layer it describes.
mkdir -p "$WORK/basecds/opt/java/lib/server"
for jsa in "$ROOT"/opt/java/lib/server/classes*.jsa; do
  if [ -e "$jsa" ]; then mv "$jsa" "$WORK/basecds/opt/java/lib/server/"; fi
done
cat >"$WORK/Dockerfile.base" <<EOF
FROM scratch
COPY rootfs/ /
ENTRYPOINT [$(json_args)]
EOF
BASE_ID=$(docker build -q -f "$WORK/Dockerfile.base" "$WORK" 2>"$WORK/build-base.log") \
  || die "docker build of the base layer of $IMAGE failed: $(cat "$WORK/build-base.log")"
cat >"$WORK/Dockerfile" <<EOF
FROM $BASE_ID
COPY basecds/ /
EOF
docker build -q -t "$IMAGE-nocds" -f "$WORK/Dockerfile" "$WORK" >/dev/null \
  || die "docker build of $IMAGE-nocds failed"

# 5. AppCDS: train in the image itself, so paths and runtime match exactly: the class list of a
#    training run, then one static archive of those classes (JDK and plugin), dumped in the image
if [ "$CDS" = 1 ]; then
  mkdir -p "$WORK/cds"
  chmod 0777 "$WORK/cds"
  # shellcheck disable=SC2086
  docker run --rm --network none -e GOPLUGIN4J_CDS_TRAINING=1 -v "$WORK/cds:/cds" \
    --entrypoint /opt/java/bin/java "$IMAGE-nocds" \
    -XX:DumpLoadedClassList=/cds/classes.lst $JVM_OPTS -cp "$CP" "$MAIN" >"$WORK/training.log" 2>&1 \
    || die "the CDS training run failed: $(tail -20 "$WORK/training.log")"
  [ -s "$WORK/cds/classes.lst" ] || die "the CDS training run listed no classes: $(tail -20 "$WORK/training.log")"
  grep -v '^@lambda-proxy' "$WORK/cds/classes.lst" >"$WORK/cds/static.lst"
  # dumped in the base layer alone: the plugin maps its own archive, the JDK's base archive is
  # not needed in this image
  # shellcheck disable=SC2086
  docker run --rm --network none -v "$WORK/cds:/cds" --entrypoint /opt/java/bin/java "$BASE_ID" \
    -Xshare:dump -XX:SharedClassListFile=/cds/static.lst -XX:SharedArchiveFile=/cds/app.jsa \
    $JVM_OPTS -cp "$CP" >"$WORK/dump.log" 2>&1 \
    || die "the CDS archive dump failed: $(tail -20 "$WORK/dump.log")"
  [ -s "$WORK/cds/app.jsa" ] || die "the CDS dump wrote no archive: $(tail -20 "$WORK/dump.log")"
  mkdir -p "$WORK/appcds/app"
  cp "$WORK/cds/app.jsa" "$WORK/appcds/app/app.jsa"
  cat >"$WORK/Dockerfile.cds" <<EOF
FROM $BASE_ID
COPY appcds/ /
ENTRYPOINT [$(json_args -XX:SharedArchiveFile=/app/app.jsa)]
EOF
  docker build -q -t "$IMAGE" -f "$WORK/Dockerfile.cds" "$WORK" >/dev/null \
    || die "docker build of $IMAGE failed"
  # -Xshare:on fails if the archive cannot be used with this runtime and class path
  # shellcheck disable=SC2086
  docker run --rm --network none --entrypoint /opt/java/bin/java "$IMAGE" \
    -XX:SharedArchiveFile=/app/app.jsa -Xshare:on $JVM_OPTS -cp "$CP" -version >/dev/null 2>"$WORK/verify.log" \
    || die "the image's AppCDS archive does not map: $(cat "$WORK/verify.log")"
  CDS_BYTES=$(stat -c %s "$WORK/cds/app.jsa")
else
  docker tag "$IMAGE-nocds" "$IMAGE"
  CDS_BYTES=0
fi

SIZE=$(docker image inspect -f '{{.Size}}' "$IMAGE")
SIZE_NOCDS=$(docker image inspect -f '{{.Size}}' "$IMAGE-nocds")
ID=$(docker image inspect -f '{{.Id}}' "$IMAGE")
RUNTIME_BYTES=$(du -sb "$ROOT/opt/java" | cut -f1)
JARS_BYTES=$(du -sb "$ROOT/app/lib" | cut -f1)
LIBS_BYTES=$(cat "$WORK/libs" | while read -r l; do stat -L -c %s "$l"; done | awk '{s+=$1} END {print s+0}')
printf '{"image":"%s","id":"%s","java_version":%s,"size_bytes":%s,"size_nocds_bytes":%s,"runtime_bytes":%s,"jars_bytes":%s,"libc_bytes":%s,"cds_archive_bytes":%s,"native_crypto":"%s","modules":"%s"}\n' \
  "$IMAGE" "$ID" "$JDK_FEATURE" "$SIZE" "$SIZE_NOCDS" "$RUNTIME_BYTES" "$JARS_BYTES" "$LIBS_BYTES" "$CDS_BYTES" "$NATIVE_CRYPTO" "$MODULES"
