#!/bin/bash
# Checks (and where Debian can, installs) the build toolchain: JDK 17+, Maven 3.8+, Go 1.24+,
# python3 with venv.
# Go comes from go.dev, not Debian (Debian 12's golang is 1.19, too old for go-plugin v1.8).
# --without-go: for the demo, which needs Go only to build the Go plugin (it falls back to the
# Java plugin without it).
set -euo pipefail
need_go=1
[ "${1:-}" = "--without-go" ] && need_go=0
say() { printf 'toolchain: %s\n' "$*"; }
die() { printf 'toolchain: ERROR: %s\n' "$*" >&2; exit 1; }

need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
# python3 with venv runs go-plugin's own Python example plugin in the interop tests
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root"
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
jv=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')
[ "${jv%%.*}" -ge 17 ] || die "JDK 17 or newer needed, found $jv"
export PATH=${GO_INSTALL_DIR:-/usr/local/go}/bin:$PATH
if [ "$need_go" -eq 0 ]; then
  say "java $jv, $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g')"
  exit 0
fi
go_ok() {
  command -v go >/dev/null 2>&1 || return 1
  gv=$(go env GOVERSION | sed 's/^go//')
  major=${gv%%.*}; rest=${gv#*.}; minor=${rest%%.*}
  [ "$major" -gt 1 ] || [ "$minor" -ge 24 ]
}
if ! go_ok; then
  # Debian 12's golang is 1.19: take the official toolchain from the Go module proxy, which
  # serves every Go release as the module golang.org/toolchain.
  GO_INSTALL_DIR=${GO_INSTALL_DIR:-/usr/local/go}
  [ "$(id -u)" -eq 0 ] || [ -w "$(dirname "$GO_INSTALL_DIR")" ] \
    || die "Go 1.24+ is needed to build the Go test peers: install it from https://go.dev/dl, or run as root to let this script install it"
  [ ! -e "$GO_INSTALL_DIR" ] || die "$GO_INSTALL_DIR holds a Go older than 1.24; remove it or put Go 1.24+ first on PATH"
  command -v unzip >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip >/dev/null; }
  command -v curl >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }
  arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  ver=${GO_TOOLCHAIN_VERSION:-go1.25.14}
  url="${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/v0.0.1-$ver.linux-$arch.zip"
  say "installing $ver into $GO_INSTALL_DIR from $url"
  tmp=$(mktemp -d)
  curl -sSfL -o "$tmp/go.zip" "$url" || { rm -rf "$tmp"; die "cannot download $url"; }
  unzip -q "$tmp/go.zip" -d "$tmp/x"
  mv "$tmp/x/golang.org/toolchain@v0.0.1-$ver.linux-$arch" "$GO_INSTALL_DIR"
  rm -rf "$tmp"
  # module zips carry no file modes
  chmod +x "$GO_INSTALL_DIR"/bin/* "$GO_INSTALL_DIR"/pkg/tool/*/*
  export PATH=$GO_INSTALL_DIR/bin:$PATH
  go_ok || die "the Go installed into $GO_INSTALL_DIR does not run"
fi
say "java $jv, $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g'), go $gv"
