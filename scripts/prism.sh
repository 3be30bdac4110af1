#!/usr/bin/env bash
# prism.sh — Prism mock servers for the fax gateway contract tests (tests/fax.rs). Test rig only.
#
# Usage (no root needed):
#   bash scripts/prism.sh up [SPECS_DIR]   # install Prism if missing, start both mocks, wait, write the env file
#   . "${PRISM_ROOT:-/tmp/medrec-prism}/env"   # exports for the tests (also: MEDREC_TEST_PRISM_ENV=$PRISM_ROOT/env)
#   bash scripts/prism.sh env              # print the exports
#   bash scripts/prism.sh down             # stop both mocks (by their recorded pids) and delete $PRISM_ROOT
#
# Each vendor's published OpenAPI document (SPECS_DIR, default: ../shared/specs beside the clone, or
# $MEDREC_SHARED_DIR/specs) is served by `prism mock --errors` on loopback:
#   Telnyx  telnyx-fax.yaml     http://127.0.0.1:$TELNYX_PORT (14010)   spec server https://api.telnyx.com/v2
#   Sinch   sinch-fax-v3.yaml   http://127.0.0.1:$SINCH_PORT  (14011)   spec server https://fax.api.sinch.com
# Prism serves the spec's paths at its root and ignores the `servers` base path, so the mock's base
# URL stands in for the whole production base URL (`/v2` included for Telnyx).
# With --errors, a request that violates the spec gets an error status (and, where Prism builds the
# response from the spec, an `sl-violations` header) instead of a mocked success. The Sinch mock
# also runs with --ignoreExamples (see `up` for why).
#
# Prism (npm @stoplight/prism-cli, pinned to $PRISM_VERSION) is installed once into
# $PRISM_INSTALL (/var/tmp/medrec-prism), outside the clone, and reused; node 20 and npm are needed.
set -euo pipefail

PRISM_VERSION=${PRISM_VERSION:-5.16.0}
PRISM_INSTALL=${PRISM_INSTALL:-/var/tmp/medrec-prism}
PRISM_ROOT=${PRISM_ROOT:-/tmp/medrec-prism}
TELNYX_PORT=${TELNYX_PORT:-14010}
SINCH_PORT=${SINCH_PORT:-14011}
START_TIMEOUT=${START_TIMEOUT:-60}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PRISM_BIN=$PRISM_INSTALL/node_modules/.bin/prism
MARKER=$PRISM_ROOT/.medrec-prism # "this directory is ours to delete"

log() { printf '[prism] %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

specs_dir() {
  local dir=${1:-}
  if [ -z "$dir" ]; then
    if [ -n "${MEDREC_SHARED_DIR:-}" ]; then dir=$MEDREC_SHARED_DIR/specs; else dir=$REPO/../shared/specs; fi
  fi
  [ -f "$dir/telnyx-fax.yaml" ] && [ -f "$dir/sinch-fax-v3.yaml" ] ||
    die "no telnyx-fax.yaml and sinch-fax-v3.yaml in $dir (pass the specs directory: prism.sh up DIR)"
  (cd "$dir" && pwd)
}

installed_version() {
  [ -x "$PRISM_BIN" ] || return 1
  node -e 'console.log(require(process.argv[1]).version)' "$PRISM_INSTALL/node_modules/@stoplight/prism-cli/package.json" 2>/dev/null
}

install() {
  command -v npm >/dev/null || die "npm not found: install node 20 and npm"
  mkdir -p "$PRISM_INSTALL"
  # one installer at a time when several test runs start together
  exec 9>"$PRISM_INSTALL/.lock"
  flock 9
  if [ "$(installed_version || true)" = "$PRISM_VERSION" ]; then
    exec 9>&-
    return 0
  fi
  log "installing @stoplight/prism-cli@$PRISM_VERSION into $PRISM_INSTALL"
  local t0=$SECONDS out
  out=$(mktemp)
  if ! npm install --prefix "$PRISM_INSTALL" --no-audit --no-fund --loglevel=error \
    "@stoplight/prism-cli@$PRISM_VERSION" </dev/null >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    die "npm install failed"
  fi
  rm -f "$out"
  log "installed in $((SECONDS - t0))s"
  exec 9>&-
}

# port_answers PORT: true once something answers HTTP there (any status)
port_answers() {
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null
}

start_one() { # name port spec [extra prism flags]
  local name=$1 port=$2 spec=$3
  shift 3
  if port_answers "$port"; then
    die "port $port is taken; stop what runs there or set ${name^^}_PORT"
  fi
  "$PRISM_BIN" mock --errors "$@" -h 127.0.0.1 -p "$port" "$spec" </dev/null >"$PRISM_ROOT/$name.log" 2>&1 &
  echo $! >"$PRISM_ROOT/$name.pid"
}

wait_for() { # name port
  local name=$1 port=$2 deadline=$((SECONDS + START_TIMEOUT))
  until port_answers "$port"; do
    if ! kill -0 "$(cat "$PRISM_ROOT/$name.pid")" 2>/dev/null; then
      tail -n 30 "$PRISM_ROOT/$name.log" >&2
      die "$name mock exited during start-up"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$PRISM_ROOT/$name.log" >&2
      die "$name mock not answering on port $port after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

write_env() {
  cat >"$PRISM_ROOT/env" <<EOF
export PRISM_ROOT="$PRISM_ROOT"
export PRISM_TELNYX_URL="http://127.0.0.1:$TELNYX_PORT"
export PRISM_SINCH_URL="http://127.0.0.1:$SINCH_PORT"
EOF
}

stop_one() { # name
  local pidfile=$PRISM_ROOT/$1.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

down() {
  [ -d "$PRISM_ROOT" ] || return 0
  [ -f "$MARKER" ] || die "$PRISM_ROOT was not created by prism.sh; not touching it"
  stop_one telnyx
  stop_one sinch
  rm -rf "$PRISM_ROOT"
  log "down"
}

up() {
  local specs t0
  specs=$(specs_dir "${1:-}")
  install
  down
  mkdir -p "$PRISM_ROOT"
  touch "$MARKER"
  t0=$SECONDS
  start_one telnyx "$TELNYX_PORT" "$specs/telnyx-fax.yaml"
  # --ignoreExamples: the Sinch spec's own example for GET .../faxes/{id} breaks its Fax schema
  # (contentUrl ["www.google.com"] is not a `format: url`), so with --errors Prism would answer
  # every lookup 500; answers built from the schema are valid. Requests are validated the same.
  start_one sinch "$SINCH_PORT" "$specs/sinch-fax-v3.yaml" --ignoreExamples
  wait_for telnyx "$TELNYX_PORT"
  wait_for sinch "$SINCH_PORT"
  write_env
  log "up in $((SECONDS - t0))s: Telnyx on :$TELNYX_PORT, Sinch on :$SINCH_PORT (env file $PRISM_ROOT/env, logs in $PRISM_ROOT)"
}

case "${1:-}" in
  up) up "${2:-}" ;;
  down) down ;;
  env)
    [ -f "$PRISM_ROOT/env" ] || die "not up (no $PRISM_ROOT/env)"
    cat "$PRISM_ROOT/env"
    ;;
  install) install ;;
  *)
    echo "usage: $0 up [SPECS_DIR] | down | env | install" >&2
    exit 2
    ;;
esac
