#!/usr/bin/env bash
# make demo: show nonroot-init's main job with the built binary.
#  1. As PID 1 of a fresh PID namespace and as OpenShift's arbitrary UID
#     1000680000 with GID 0 and no passwd entry: the generated identity,
#     orphans reaped, and COMMAND's exit status passed through.
#  2. When nginx is installed: nginx.conf rendered from a template, port 80
#     resolved to 8080 for the unprivileged UID, HTTP 200, and a graceful
#     stop with SIGTERM rewritten to SIGQUIT.
set -euo pipefail
BIN=$(realpath "${1:-bin/nonroot-init}")
cd "$(dirname "$0")/.."
UID_=1000680000

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v setpriv >/dev/null; then
  say "not root (or no unshare/setpriv): running as a subreaper as $(id -un) instead"
  set +e
  "$BIN" -- sh -c 'echo "pid $$, uid $(id -u)"; for i in 1 2 3; do (sleep 0.1 &); done; sleep 0.3; exit 3'
  echo "nonroot-init exited $? (COMMAND's status)"
  exit 0
fi

demo=$(mktemp -d); chmod 755 "$demo"
trap 'rm -rf "$demo"' EXIT
install -d -m 1777 "$demo/tmp"

say "1. PID 1, uid $UID_ gid 0, no passwd entry: identity, reaping, exit status"
set +e
TMPDIR="$demo/tmp" unshare --pid --fork --mount-proc \
  setpriv --reuid $UID_ --regid 0 --clear-groups -- \
  "$BIN" -- sh -c '
    echo "COMMAND runs as pid $$ under PID 1: $(cat /proc/1/comm)"
    echo "whoami: $(whoami 2>&1)   HOME=$HOME   USER=$USER"
    echo "leaving 500 orphans behind..."
    for i in $(seq 500); do (sleep 0.05 &) ; done
    sleep 0.5
    z=$(cat /proc/[0-9]*/stat 2>/dev/null | awk "{ sub(/.*\\) /, \"\"); if (\$1 == \"Z\") z++ } END { print z+0 }")
    echo "zombies left in the namespace: $z"
    exit 3'
echo "nonroot-init exited $? (COMMAND's status 3)"
set -e

if ! command -v nginx >/dev/null || ! command -v busybox >/dev/null || ! command -v ip >/dev/null; then
  say "2. skipped: needs nginx, busybox and ip (apt-get install nginx-light busybox-static iproute2)"
  exit 0
fi

say "2. nginx as uid $UID_: template rendered, port 80 -> 8080, HTTP 200, graceful stop"
install -d -o $UID_ -g 0 "$demo/run"
unshare --pid --fork --mount-proc --net sh -ec '
  ip link set lo up
  export TMPDIR="$1/tmp" NONROOT_PORTS=HTTP_PORT=80 NONROOT_REWRITE_SIGNALS=TERM:QUIT
  export NGINX_RUN_DIR="$1/run" NGINX_ACCESS_LOG="$1/run/access.log"
  export NONROOT_TEMPLATES="$PWD/templates/nginx.conf.tmpl:$1/run/nginx/nginx.conf"
  setpriv --reuid '$UID_' --regid 0 --clear-groups -- "$2" -- nginx -c "$1/run/nginx/nginx.conf" -g "daemon off;" &
  for i in $(seq 100); do busybox wget -q -O /dev/null http://127.0.0.1:8080/healthz 2>/dev/null && break; sleep 0.1; done
  echo "--- GET http://127.0.0.1:8080/healthz"
  busybox wget -S -O - http://127.0.0.1:8080/healthz 2>&1 | sed -n "1,2p"
  echo "--- SIGTERM to nonroot-init (rewritten to SIGQUIT for nginx)"
  kill -TERM $!
  wait $! && echo "nonroot-init exited $? (nginx stopped gracefully)"' demo "$demo" "$BIN"
