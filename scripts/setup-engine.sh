#!/bin/bash
# Sets up the container engine goplugin4j's container runner and its integration tests use:
# rootful Docker with runc and gVisor (runsc) on Debian 12, run as root, without systemd.
#
# Idempotent: run it as often as you like. It
#   1. installs docker.io, runsc, acl and busybox-static with apt when they are missing,
#   2. registers runsc in /etc/docker/daemon.json with the arguments plugins need
#      (--network=none: old runsc refuses to start otherwise on kernel 6.x;
#       --host-uds=all: the plugin's socket in the bind-mounted dir must appear on the host and be
#       chmod-able), merging into an existing file,
#   3. removes a stale /var/run/docker.pid when no dockerd runs,
#   4. starts dockerd in the background (log: /var/log/dockerd.log) when it is not running,
#      or sends it SIGHUP when the runtime configuration changed,
#   5. waits (bounded) until `docker info` answers and checks that runsc is registered.
# It prints every step it took. Environment: ENGINE_WAIT_SECONDS (default 60).
set -euo pipefail

WAIT_SECONDS=${ENGINE_WAIT_SECONDS:-60}
DAEMON_JSON=/etc/docker/daemon.json
LOG=/var/log/dockerd.log
PIDFILE=/var/run/docker.pid

say() { printf 'setup-engine: %s\n' "$*"; }
die() { printf 'setup-engine: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts dockerd)"

# --- 1. packages -------------------------------------------------------------------------------
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
[ -x /usr/bin/runsc ] || missing+=(runsc)
command -v setfacl >/dev/null 2>&1 || missing+=(acl)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' \
  || missing+=(busybox-static)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "packages present (docker.io, runsc, acl, busybox-static)"
fi

# --- 2. runtime registration -----------------------------------------------------------------------
mkdir -p /etc/docker
config_changed=$(python3 - "$DAEMON_JSON" <<'PY'
import json, os, sys
path = sys.argv[1]
want = {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none", "--host-uds=all"]}
data = {}
if os.path.exists(path) and os.path.getsize(path) > 0:
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as e:
            sys.exit(f"{path} is not valid JSON ({e}); fix or remove it")
runtimes = data.setdefault("runtimes", {})
if runtimes.get("runsc") == want:
    print("no")
else:
    runtimes["runsc"] = want
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    print("yes")
PY
)
if [ "$config_changed" = yes ]; then
  say "registered runsc (--network=none --host-uds=all) in $DAEMON_JSON"
else
  say "runsc already registered in $DAEMON_JSON"
fi

# --- 3./4. daemon ---------------------------------------------------------------------------------
dockerd_pid() { pgrep -x -u root dockerd | head -n1 || true; }
pid=$(dockerd_pid)
if [ -z "$pid" ]; then
  if [ -e "$PIDFILE" ]; then
    say "removing stale $PIDFILE (no dockerd is running)"
    rm -f "$PIDFILE"
  fi
  say "starting dockerd (log: $LOG)"
  # setsid + nohup: the daemon must outlive this script and its terminal.
  setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
  started=yes
else
  started=no
  if [ "$config_changed" = yes ]; then
    say "dockerd (pid $pid) is running: sending SIGHUP to reload the runtimes"
    kill -HUP "$pid"
  else
    say "dockerd already running (pid $pid)"
  fi
fi

# --- 5. wait for the API ----------------------------------------------------------------------------
DOCKER_CLI=$(command -v docker || true)
[ -n "$DOCKER_CLI" ] || die "no docker CLI on PATH (package docker.io provides /usr/bin/docker)"
deadline=$((SECONDS + WAIT_SECONDS))
until "$DOCKER_CLI" -H unix:///var/run/docker.sock info >/dev/null 2>&1; do
  if [ $SECONDS -ge $deadline ]; then
    echo "--- last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2 || true
    die "dockerd did not answer 'docker info' within ${WAIT_SECONDS}s (see $LOG)"
  fi
  if [ "$started" = yes ] && [ -z "$(dockerd_pid)" ]; then
    echo "--- last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2 || true
    die "dockerd exited during start-up (see $LOG)"
  fi
  sleep 0.5
done

runtimes=$("$DOCKER_CLI" -H unix:///var/run/docker.sock info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}')
case " $runtimes " in
  *" runsc "*) ;;
  *)
    # A HUP is applied asynchronously; give it a moment before declaring failure.
    sleep 2
    runtimes=$("$DOCKER_CLI" -H unix:///var/run/docker.sock info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}')
    case " $runtimes " in
      *" runsc "*) ;;
      *) die "runsc is not among the engine's runtimes ($runtimes) after reload; see $LOG" ;;
    esac
    ;;
esac
say "engine ready: $("$DOCKER_CLI" -H unix:///var/run/docker.sock version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}'), runtimes: $runtimes"
