#!/usr/bin/env bash
# Installs (if missing) and starts (if not running) a Docker engine of its own
# for the local provider's container runtime and its tests, then prints the
# DOCKER_HOST to use as the only line on stdout:
#
#   export "$(bash scripts/docker-setup.sh)"     # DOCKER_HOST=unix:///run/sebs-docker.sock
#
# Idempotent: a second call finds the engine answering and only prints.
# The engine is started the way our machines allow (ENVIRONMENT.md §2): no
# systemd, no iptables, no bridge network (containers use the host network),
# its own socket, data root and exec root, so it never touches a system Docker.
# Exits non-zero, with the reason on stderr, when it cannot get an engine up.
#
# Environment (all optional):
#   SEBS_DOCKER_SOCKET         socket path             (/run/sebs-docker.sock)
#   SEBS_DOCKER_DATA_ROOT      images and containers   (/var/lib/sebs-docker)
#   SEBS_DOCKER_EXEC_ROOT      runtime state           (/run/sebs-docker)
#   SEBS_DOCKER_STORAGE_DRIVER e.g. vfs, when overlay2 does not work on this disk (default: dockerd's choice)
#   SEBS_DOCKER_START_TIMEOUT  seconds to wait for the socket to answer (30)
set -euo pipefail

SOCKET="${SEBS_DOCKER_SOCKET:-/run/sebs-docker.sock}"
DATA_ROOT="${SEBS_DOCKER_DATA_ROOT:-/var/lib/sebs-docker}"
EXEC_ROOT="${SEBS_DOCKER_EXEC_ROOT:-/run/sebs-docker}"
PIDFILE="${SEBS_DOCKER_PIDFILE:-/run/sebs-docker.pid}"
LOG="${SEBS_DOCKER_LOG:-/var/log/sebs-dockerd.log}"
TIMEOUT="${SEBS_DOCKER_START_TIMEOUT:-30}"
HOST="unix://${SOCKET}"

say() { printf '[docker-setup] %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

# The engine answers when the API's /_ping says OK. The docker CLI is the
# client every install has; curl may be missing.
answers() {
  command -v docker >/dev/null 2>&1 || return 1
  timeout 5 docker -H "$HOST" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

if answers; then
  say "a Docker engine already answers on $HOST ($(docker -H "$HOST" version --format '{{.Server.Version}}' 2>/dev/null))"
  echo "DOCKER_HOST=$HOST"
  exit 0
fi

[ "$(id -u)" = 0 ] || fail "starting dockerd needs root; run this script as root, or start a Docker engine yourself and set DOCKER_HOST."

# --- install --------------------------------------------------------------
# docker.io brings dockerd, containerd and runc; busybox-static is the shell
# and tools of the offline base image (`npx sebs docker base`).
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
if ! command -v busybox >/dev/null 2>&1 || ! file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked'; then
  # `file` may be missing; then look for the package itself.
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || fail "need ${missing[*]}, and there is no apt-get to install them; install Docker yourself."
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    # The package lists may be stale or absent (a fresh machine).
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || fail "apt-get install ${missing[*]} failed"
  fi
fi
command -v docker >/dev/null 2>&1 || fail "dockerd is installed but there is no docker CLI on PATH (docker.io ships /usr/bin/docker)"

# --- start ----------------------------------------------------------------
# A stale pid file or socket from a killed engine would make dockerd refuse to start.
if [ -f "$PIDFILE" ]; then
  old="$(cat "$PIDFILE" 2>/dev/null || true)"
  if [ -n "$old" ] && kill -0 "$old" 2>/dev/null; then
    fail "dockerd (pid $old, pid file $PIDFILE) is running but does not answer on $HOST; see $LOG, or stop it (kill $old) and rerun."
  fi
  rm -f "$PIDFILE"
fi
rm -f "$SOCKET"
mkdir -p "$DATA_ROOT" "$EXEC_ROOT" "$(dirname "$LOG")"

args=(
  --data-root "$DATA_ROOT"
  --exec-root "$EXEC_ROOT"
  --pidfile "$PIDFILE"
  -H "$HOST"
  # No NAT rules and no docker0 bridge: our machines allow neither, and the
  # functions use the host network (a server on 127.0.0.1 in the container is
  # reachable from the harness).
  --iptables=false
  --ip6tables=false
  --bridge=none
)
# Starts dockerd with the given extra flags and waits for the API; returns 1
# if dockerd exits during start-up, 2 on timeout.
start_dockerd() {
  say "starting dockerd on $HOST (data root $DATA_ROOT${1:+, $*}, log $LOG)"
  # setsid + nohup: the engine outlives this script and the CI step's shell.
  setsid nohup dockerd "${args[@]}" "$@" >>"$LOG" 2>&1 < /dev/null &
  local started=$!
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until answers; do
    kill -0 "$started" 2>/dev/null || return 1
    [ "$(date +%s)" -lt "$deadline" ] || return 2
    sleep 0.2
  done
}

status=0
if [ -n "${SEBS_DOCKER_STORAGE_DRIVER:-}" ]; then
  start_dockerd --storage-driver "$SEBS_DOCKER_STORAGE_DRIVER" || status=$?
else
  start_dockerd || status=$?
  if [ "$status" = 1 ]; then
    # overlay2 does not work on every disk (e.g. a data root on overlayfs in a
    # CI container); vfs works everywhere, only slower and bigger.
    say "dockerd exited during start-up; the end of $LOG:"
    tail -n 10 "$LOG" >&2 || true
    rm -f "$SOCKET" "$PIDFILE"
    say "retrying with --storage-driver vfs"
    status=0
    start_dockerd --storage-driver vfs || status=$?
  fi
fi
if [ "$status" != 0 ]; then
  tail -n 20 "$LOG" >&2 || true
  if [ "$status" = 1 ]; then fail "dockerd could not start (above: the end of $LOG)"; fi
  fail "dockerd did not answer on $HOST within ${TIMEOUT} s (above: the end of $LOG)"
fi

say "Docker engine $(docker -H "$HOST" version --format '{{.Server.Version}}') answers on $HOST"
echo "DOCKER_HOST=$HOST"
