#!/bin/bash
# Sets up the container engines goplugin4j's container runner and its integration tests use, on
# Debian 12 as root, without systemd.
#
#   scripts/setup-engine.sh          rootful Docker with runc and gVisor (runsc)   [default]
#   scripts/setup-engine.sh --all    the same, plus (GOPLUGIN4J_ENGINES=all does the same)
#       - a dedicated test user (default goplugin4j-test, uid 1001 when free) with /etc/subuid and
#         /etc/subgid ranges, in the docker group, /dev/net/tun usable by it,
#       - rootless Docker for that user:  unix:///run/user/<uid>/docker.sock
#         (its own ~/.config/docker/daemon.json registering runsc with --ignore-cgroups),
#       - Podman 4.3 services (Docker-compatible API), each with a fixed default OCI runtime,
#         because Podman's compatible API ignores HostConfig.Runtime:
#           rootful  runc   unix:///run/podman/podman.sock
#           rootful  runsc  unix:///run/podman/podman-runsc.sock
#           rootless runc   unix:///run/user/<uid>/podman/podman.sock
#           rootless runsc  unix:///run/user/<uid>/podman/podman-runsc.sock
#         (the rootful sockets group docker, 0660, as Docker's),
#         with /etc/containers/containers.conf (default_ulimits within this machine's hard limits,
#         cgroupfs, file event log, runsc registered through a wrapper script that adds the
#         arguments containers.conf cannot pass).
#
# Idempotent: run it as often as you like; it only starts what does not answer, and restarts what
# it started when that configuration changed. Default mode:
#   1. installs docker.io, runsc, acl and busybox-static with apt when they are missing,
#   2. registers runsc in /etc/docker/daemon.json with the arguments plugins need
#      (--network=none: old runsc refuses to start otherwise on kernel 6.x;
#       --host-uds=all: the plugin's socket in the bind-mounted dir must appear on the host and be
#       chmod-able), merging into an existing file; in the same write, a test-only runtime
#      runsc-nouds (--network=none, no --host-uds) that DoctorIT checks `doctor` flags,
#   3. removes a stale /var/run/docker.pid when no dockerd runs,
#   4. starts dockerd in the background (log: /var/log/dockerd.log) when it is not running,
#      or sends it SIGHUP when the runtime configuration changed,
#   5. waits (bounded) until `docker info` answers and checks that runsc and runsc-nouds are
#      registered.
# It prints every step it took. Environment: ENGINE_WAIT_SECONDS (default 60), GOPLUGIN4J_ENGINES
# (default|all), GOPLUGIN4J_TEST_USER (default goplugin4j-test), GOPLUGIN4J_TEST_UID (default
# 1001, used when creating the user and free). Logs of the extra engines: /var/log/goplugin4j-engines/.
set -euo pipefail

WAIT_SECONDS=${ENGINE_WAIT_SECONDS:-60}
DAEMON_JSON=/etc/docker/daemon.json
LOG=/var/log/dockerd.log
PIDFILE=/var/run/docker.pid
ENGINES=${GOPLUGIN4J_ENGINES:-default}
TEST_USER=${GOPLUGIN4J_TEST_USER:-goplugin4j-test}
TEST_UID_WANTED=${GOPLUGIN4J_TEST_UID:-1001}
ENGINE_LOGS=/var/log/goplugin4j-engines
RUNSC_PODMAN=/usr/local/bin/goplugin4j-runsc-podman
CONTAINERS_CONF=/etc/containers/containers.conf
CONF_MARKER="# Managed by goplugin4j scripts/setup-engine.sh --all"

say() { printf 'setup-engine: %s\n' "$*"; }
die() { printf 'setup-engine: ERROR: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case $1 in
    --all) ENGINES=all; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument \"$1\" (use --all, or nothing for rootful Docker only)" ;;
  esac
done
case $ENGINES in
  default|all) ;;
  *) die "GOPLUGIN4J_ENGINES must be \"default\" or \"all\", got \"$ENGINES\"" ;;
esac

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts dockerd)"

# --- 1. packages -------------------------------------------------------------------------------
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
[ -x /usr/bin/runsc ] || missing+=(runsc)
command -v setfacl >/dev/null 2>&1 || missing+=(acl)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' \
  || missing+=(busybox-static)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ "$ENGINES" = all ]; then
  command -v rootlesskit >/dev/null 2>&1 || missing+=(rootlesskit)
  command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
  command -v newuidmap >/dev/null 2>&1 || missing+=(uidmap)
  command -v podman >/dev/null 2>&1 || missing+=(podman)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "packages present (docker.io, runsc, acl, busybox-static$([ "$ENGINES" = all ] \
    && echo ', rootlesskit, slirp4netns, uidmap, podman'))"
fi

# Merges {"runtimes": {NAME: {"path": "/usr/bin/runsc", "runtimeArgs": [...]}, ...}} into a
# daemon.json in one write; prints yes if it changed. Each spec is NAME=ARG,ARG,... (the arguments
# themselves contain no comma).
register_runsc() { # file spec...
  python3 - "$@" <<'PY'
import json, os, sys
path, specs = sys.argv[1], sys.argv[2:]
wanted = {}
for spec in specs:
    name, _, args = spec.partition("=")
    wanted[name] = {"path": "/usr/bin/runsc", "runtimeArgs": [a for a in args.split(",") if a]}
data = {}
if os.path.exists(path) and os.path.getsize(path) > 0:
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as e:
            sys.exit(f"{path} is not valid JSON ({e}); fix or remove it")
runtimes = data.setdefault("runtimes", {})
if all(runtimes.get(n) == w for n, w in wanted.items()):
    print("no")
else:
    runtimes.update(wanted)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    print("yes")
PY
}

# --- 2. runtime registration -----------------------------------------------------------------------
mkdir -p /etc/docker
# runsc-nouds is for the tests only: gVisor registered without --host-uds, the mistake `doctor`
# must catch on a real engine (DoctorIT). Plugins never use it.
config_changed=$(register_runsc "$DAEMON_JSON" runsc=--network=none,--host-uds=all \
  runsc-nouds=--network=none)
if [ "$config_changed" = yes ]; then
  say "registered runsc (--network=none --host-uds=all) and the test runtime runsc-nouds" \
    "(--network=none only) in $DAEMON_JSON"
else
  say "runsc and runsc-nouds already registered in $DAEMON_JSON"
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
  # setsid + nohup: the daemon must outlive this script and its terminal. From /: a daemon keeps
  # the directory it was started in, which may be a clone that is deleted later (see cwd_gone).
  (cd / && exec setsid nohup dockerd >>"$LOG" 2>&1 </dev/null) &
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

# Names of the runtimes an engine reports, space separated.
engine_runtimes() { # endpoint
  timeout 10 "$DOCKER_CLI" -H "$1" info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}' \
    2>/dev/null || true
}

both_registered() { # runtime names, space separated
  case " $1 " in *" runsc "*) ;; *) return 1 ;; esac
  case " $1 " in *" runsc-nouds "*) ;; *) return 1 ;; esac
}
runtimes=$(engine_runtimes unix:///var/run/docker.sock)
if ! both_registered "$runtimes"; then
  # A HUP is applied asynchronously; give it a moment before declaring failure.
  sleep 2
  runtimes=$(engine_runtimes unix:///var/run/docker.sock)
  both_registered "$runtimes" \
    || die "runsc and runsc-nouds are not both among the engine's runtimes ($runtimes) after reload; see $LOG"
fi
say "engine ready: $("$DOCKER_CLI" -H unix:///var/run/docker.sock version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}'), runtimes: $runtimes"

[ "$ENGINES" = all ] || exit 0

# ================================== --all: rootless Docker and Podman ==================================

# --- 6. the test user ----------------------------------------------------------------------------
if ! id "$TEST_USER" >/dev/null 2>&1; then
  if getent passwd "$TEST_UID_WANTED" >/dev/null; then
    say "uid $TEST_UID_WANTED is taken: creating $TEST_USER with the next free uid"
    useradd -m -s /bin/bash "$TEST_USER"
  else
    useradd -m -s /bin/bash -u "$TEST_UID_WANTED" "$TEST_USER"
  fi
  say "created user $TEST_USER"
fi
TUID=$(id -u "$TEST_USER")
TGID=$(id -g "$TEST_USER")
THOME=$(getent passwd "$TEST_USER" | cut -d: -f6)
[ -d "$THOME" ] || { mkdir -p "$THOME"; chown "$TUID:$TGID" "$THOME"; chmod 0750 "$THOME"; }
XDG=/run/user/$TUID

# The rootful Docker socket is root:docker 0660: the test user's non-root-host cells use it.
if ! id -nG "$TEST_USER" | tr ' ' '\n' | grep -qx docker; then
  usermod -aG docker "$TEST_USER"
  say "added $TEST_USER to group docker (it may use the rootful Docker socket)"
fi

# Subordinate ids for the user namespaces: 65536 ids after every range already handed out.
ensure_subids() { # file
  local f=$1 start
  touch "$f"
  if grep -q "^$TEST_USER:" "$f" || grep -q "^$TUID:" "$f"; then
    return
  fi
  start=$(awk -F: 'BEGIN{m=100000} NF>=3 {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
  echo "$TEST_USER:$start:65536" >>"$f"
  say "added $TEST_USER:$start:65536 to $f"
}
ensure_subids /etc/subuid
ensure_subids /etc/subgid

# slirp4netns (rootless networking) opens /dev/net/tun as the user; without udev it is 0600.
if [ ! -c /dev/net/tun ]; then
  mkdir -p /dev/net
  mknod -m 0666 /dev/net/tun c 10 200
  say "created /dev/net/tun"
elif ! setpriv --reuid="$TUID" --regid="$TGID" --clear-groups test -r /dev/net/tun -a -w /dev/net/tun; then
  chmod 0666 /dev/net/tun
  say "made /dev/net/tun usable by non-root users (chmod 0666)"
fi

mkdir -p "$XDG" "$ENGINE_LOGS"
chown "$TUID:$TGID" "$XDG"
chmod 0700 "$XDG"

# A daemon started in a directory that is deleted later (a CI clone under /tmp) keeps that dead
# directory as its working directory; every conmon Podman then spawns fails ("Failed to get
# working directory") and no container can be attached. Daemons are started from /, and a
# running Podman service whose working directory is gone is restarted.
cwd_gone() { # pid...
  local p
  for p in "$@"; do
    readlink "/proc/$p/cwd" 2>/dev/null | grep -q ' (deleted)$' && return 0
  done
  return 1
}
# Runs a command as the test user with a clean login-like environment.
as_user() {
  setpriv --reuid="$TUID" --regid="$TGID" --init-groups -- env -i HOME="$THOME" USER="$TEST_USER" \
    LOGNAME="$TEST_USER" XDG_RUNTIME_DIR="$XDG" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# True when an engine answers on the endpoint.
engine_answers() { # endpoint
  timeout 10 "$DOCKER_CLI" -H "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# Waits until the endpoint answers; fails with the log when the process dies or time runs out.
await_engine() { # label endpoint log pid-regex-check-command...
  local label=$1 endpoint=$2 log=$3; shift 3
  local deadline=$((SECONDS + WAIT_SECONDS))
  until engine_answers "$endpoint"; do
    if [ $SECONDS -ge $deadline ] || ! "$@"; then
      echo "--- last lines of $log:" >&2
      tail -n 40 "$log" >&2 || true
      die "$label did not come up at $endpoint within ${WAIT_SECONDS}s (see $log)"
    fi
    sleep 0.5
  done
}

# Stops processes this script started earlier (by pid), TERM then KILL.
stop_pids() { # pid...
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in $(seq 1 20); do
    local alive=0 p
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && return 0
    sleep 0.5
  done
  kill -KILL "$@" 2>/dev/null || true
}

# --- 7. rootless Docker ------------------------------------------------------------------------------
RL_DOCKER=unix://$XDG/docker.sock
RL_DOCKER_LOG=$ENGINE_LOGS/dockerd-rootless-$TEST_USER.log
mkdir -p "$THOME/.config/docker"
rl_changed=$(register_runsc "$THOME/.config/docker/daemon.json" \
  runsc=--network=none,--host-uds=all,--ignore-cgroups)
chown -R "$TUID:$TGID" "$THOME/.config"
[ "$rl_changed" = yes ] && say "registered runsc (+ --ignore-cgroups) in $THOME/.config/docker/daemon.json"

rl_dockerd_pids() { # pgrep -x matches names of at most 15 characters: one name per call
  local n
  for n in rootlesskit dockerd containerd; do pgrep -u "$TUID" -x "$n" || true; done
}
rl_alive() { [ -n "$(rl_dockerd_pids)" ]; }
if engine_answers "$RL_DOCKER"; then
  if [ "$rl_changed" = yes ]; then
    p=$(pgrep -u "$TUID" -x dockerd | head -n1)
    say "rootless dockerd (pid $p) is running: sending SIGHUP to reload the runtimes"
    kill -HUP "$p"
    sleep 2
  else
    say "rootless Docker already running at $RL_DOCKER"
  fi
else
  pids=$(rl_dockerd_pids)
  if [ -n "$pids" ]; then
    say "rootless Docker processes of $TEST_USER do not answer: stopping them ($(echo $pids))"
    # shellcheck disable=SC2086
    stop_pids $pids
  fi
  # What a killed daemon leaves behind makes the next start refuse or hang.
  rm -rf "$XDG/docker.pid" "$XDG/docker.sock" "$XDG/dockerd-rootless" "$XDG/docker"
  say "starting rootless dockerd as $TEST_USER (log: $RL_DOCKER_LOG)"
  (cd / && as_user setsid nohup /usr/share/docker.io/contrib/dockerd-rootless.sh) \
    >>"$RL_DOCKER_LOG" 2>&1 </dev/null &
  sleep 1
  await_engine "rootless dockerd" "$RL_DOCKER" "$RL_DOCKER_LOG" rl_alive
fi
rl_runtimes=$(engine_runtimes "$RL_DOCKER")
case " $rl_runtimes " in
  *" runsc "*) ;;
  *) die "runsc is not among the rootless engine's runtimes ($rl_runtimes); see $RL_DOCKER_LOG" ;;
esac
say "rootless Docker ready: $RL_DOCKER, $("$DOCKER_CLI" -H "$RL_DOCKER" version --format 'server {{.Server.Version}}'), runtimes: $rl_runtimes"

# --- 8. Podman configuration --------------------------------------------------------------------------
# runsc through a wrapper: containers.conf registers a runtime by path only. Inside a user
# namespace (rootless Podman) runsc cannot manage cgroup v1, hence --ignore-cgroups there.
wrapper=$(cat <<'SH'
#!/bin/sh
# gVisor for goplugin4j's plugin containers under Podman (written by scripts/setup-engine.sh --all).
# --network=none: old runsc misreads every netns as the root one on kernel 6.x;
# --host-uds=all: the plugin's socket must appear on the host and accept chmod/chown;
# --ignore-cgroups: only inside a user namespace (rootless), where cgroup v1 is not delegated.
extra=
if ! grep -qE '^ +0 +0 +4294967295$' /proc/self/uid_map; then extra=--ignore-cgroups; fi
exec /usr/bin/runsc --network=none --host-uds=all $extra "$@"
SH
)
podman_changed=no
if [ "$(cat "$RUNSC_PODMAN" 2>/dev/null || true)" != "$wrapper" ]; then
  printf '%s\n' "$wrapper" >"$RUNSC_PODMAN"
  chmod 0755 "$RUNSC_PODMAN"
  podman_changed=yes
  say "wrote $RUNSC_PODMAN"
fi
# Podman asks for nofile/nproc rlimits above this machine's hard limits (root here lacks
# CAP_SYS_RESOURCE): "error setting rlimit type 7: operation not permitted". Pin them to what a
# Podman process holds: the hard limits, nproc also lowered to kernel.pid_max (Podman lowers its
# own RLIMIT_NPROC to pid_max at start, and a container cannot get more than its runtime has).
nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] && nofile=1048576
pid_max=$(cat /proc/sys/kernel/pid_max)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then nproc=$pid_max; fi
conf=$(cat <<CONF
$CONF_MARKER
# (rewritten on every run; to manage this file yourself, remove the line above)
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
# no systemd here
cgroup_manager = "cgroupfs"
events_logger = "file"

[engine.runtimes]
runsc = ["$RUNSC_PODMAN"]
CONF
)
mkdir -p /etc/containers
if [ -e "$CONTAINERS_CONF" ] && ! head -n1 "$CONTAINERS_CONF" | grep -qxF "$CONF_MARKER"; then
  grep -q default_ulimits "$CONTAINERS_CONF" && grep -q "$RUNSC_PODMAN" "$CONTAINERS_CONF" \
    || die "$CONTAINERS_CONF exists and is not managed by this script; add to it: $(printf '\n%s' "$conf")"
  say "$CONTAINERS_CONF is managed by someone else and has what Podman needs; leaving it"
elif [ "$(cat "$CONTAINERS_CONF" 2>/dev/null || true)" != "$conf" ]; then
  printf '%s\n' "$conf" >"$CONTAINERS_CONF"
  podman_changed=yes
  say "wrote $CONTAINERS_CONF (ulimits nofile=$nofile nproc=$nproc, cgroupfs, runsc via wrapper)"
fi

# --- 9. Podman services ------------------------------------------------------------------------------
# Podman 4.3's Docker-compatible API ignores HostConfig.Runtime (and its libpod API ignores the
# spec's oci_runtime): a service runs every container with its default runtime, so there is one
# service per runtime, selected with podman's global --runtime flag.
ensure_podman_service() { # rootful|rootless runc|runsc socket-path
  local mode=$1 runtime=$2 sock=$3 uid endpoint log pids args
  endpoint=unix://$sock
  if [ "$mode" = rootful ]; then uid=0; else uid=$TUID; fi
  log=$ENGINE_LOGS/podman-$mode-$runtime.log
  [ "$mode" = rootless ] && log=$ENGINE_LOGS/podman-$mode-$runtime-$TEST_USER.log
  args=(--runtime "$runtime" system service --time=0 "$endpoint")
  # this script's own services, by their exact command line
  local match="podman --runtime $runtime system service --time=0 $endpoint"
  svc_pids() { pgrep -u "$uid" -f -x "$match" || true; }
  svc_alive() { [ -n "$(svc_pids)" ]; }
  pids=$(svc_pids)
  if [ -n "$pids" ] && [ "$podman_changed" = no ] && ! cwd_gone $pids \
    && engine_answers "$endpoint"; then
    say "Podman $mode/$runtime already running at $endpoint"
    share_rootful_socket "$mode" "$sock"
    return
  fi
  if [ -n "$pids" ]; then
    local why='not answering'
    [ "$podman_changed" = yes ] && why='configuration changed'
    # shellcheck disable=SC2086
    cwd_gone $pids && why='its working directory was deleted: conmon would fail to start containers'
    say "restarting Podman $mode/$runtime ($why)"
    # shellcheck disable=SC2086
    stop_pids $pids
  elif engine_answers "$endpoint"; then
    die "something else serves $endpoint; stop it or remove the socket"
  fi
  mkdir -p "$(dirname "$sock")"
  [ "$mode" = rootless ] && chown "$TUID:$TGID" "$(dirname "$sock")"
  rm -f "$sock"
  say "starting Podman $mode/$runtime at $endpoint (log: $log)"
  if [ "$mode" = rootful ]; then
    (cd / && exec setsid nohup podman "${args[@]}" >>"$log" 2>&1 </dev/null) &
  else
    (cd / && as_user setsid nohup podman "${args[@]}") >>"$log" 2>&1 </dev/null &
  fi
  sleep 0.5
  await_engine "Podman $mode/$runtime" "$endpoint" "$log" svc_alive
  local default
  default=$(timeout 10 "$DOCKER_CLI" -H "$endpoint" info --format '{{.DefaultRuntime}}' 2>/dev/null || true)
  [ "$default" = "$runtime" ] \
    || die "Podman $mode/$runtime at $endpoint reports default runtime \"$default\"; see $log"
  share_rootful_socket "$mode" "$sock"
}
# Podman makes its rootful socket root-only (0600); give it the docker group like Docker's own, so
# the test user (a non-root host) can reach rootful Podman as it reaches rootful Docker.
share_rootful_socket() { # mode socket-path
  [ "$1" = rootful ] || return 0
  chgrp docker "$2"
  chmod 0660 "$2"
}
ensure_podman_service rootful runc /run/podman/podman.sock
ensure_podman_service rootful runsc /run/podman/podman-runsc.sock
ensure_podman_service rootless runc "$XDG/podman/podman.sock"
ensure_podman_service rootless runsc "$XDG/podman/podman-runsc.sock"
say "Podman ready: $(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version)," \
  "rootful unix:///run/podman/podman{,-runsc}.sock, rootless unix://$XDG/podman/podman{,-runsc}.sock"
say "all engines ready (test user $TEST_USER, uid $TUID)"
