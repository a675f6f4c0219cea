#!/usr/bin/env bash
# FerretDB 1.x (MongoDB wire protocol) on the SQLite backend (or PostgreSQL), built from the Go module proxy.
#
#   infra/ferretdb.sh start [--fresh]   build the binary once, start, wait until it answers hello
#   infra/ferretdb.sh stop              SIGTERM the process group, wait for exit
#   infra/ferretdb.sh status            exit 0 if running and answering, 3 otherwise
#
# --fresh wipes the SQLite data dir (stopping a running server first).
# Env: DOCLANE_CACHE_DIR, DOCLANE_INFRA_INSTANCE (a private copy, see lib.sh), DOCLANE_MONGO_PORT (27117), DOCLANE_FERRETDB_LOG_LEVEL (warn),
#      DOCLANE_START_TIMEOUT (90), DOCLANE_STOP_TIMEOUT (30),
#      DOCLANE_FERRETDB_HANDLER (sqlite | postgresql), DOCLANE_FERRETDB_POSTGRESQL_URL (needed
#      with postgresql: a database of its own, e.g. on infra/postgres.sh's server),
#      DOCLANE_FERRETDB_DEBUG_ADDR (off; HOST:PORT serves /debug/metrics, per-command counters).
#
# Why not `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.x`: the module zip
# lacks the generated build/version/version.txt and the binary panics at start. We copy
# the downloaded module, write that file, and `go build` from the copy.
set -euo pipefail

SVC=ferretdb
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# v1.24.2 is the newest v1.24.x on the module proxy (v1.24.1 was never published there).
VERSION=v1.24.2
MODULE=github.com/FerretDB/FerretDB
PORT="${DOCLANE_MONGO_PORT:-27117}"
LOG_LEVEL="${DOCLANE_FERRETDB_LOG_LEVEL:-warn}"
HANDLER="${DOCLANE_FERRETDB_HANDLER:-sqlite}"
PG_URL="${DOCLANE_FERRETDB_POSTGRESQL_URL:-}"
DEBUG_ADDR="${DOCLANE_FERRETDB_DEBUG_ADDR:--}"
case "$HANDLER" in
  sqlite) ;;
  postgresql | pg)
    HANDLER=postgresql
    [[ -n "$PG_URL" ]] || die "DOCLANE_FERRETDB_HANDLER=postgresql needs DOCLANE_FERRETDB_POSTGRESQL_URL" ;;
  *) die "DOCLANE_FERRETDB_HANDLER must be sqlite or postgresql, not $HANDLER" ;;
esac

BIN="$CACHE_DIR/bin/ferretdb-$VERSION"
BUILD="$CACHE_DIR/build/ferretdb-$VERSION"
DATA="$DATA_DIR/ferretdb"
PIDFILE="$RUN_DIR/ferretdb.pid"
LOGFILE="$RUN_DIR/ferretdb.log"
MARKER="$BIN"
if [[ -n "$INSTANCE" ]]; then  # every instance runs the same binary: tell them apart by data dir
  MARKER="--state-dir=$DATA/state"
fi

ensure_binary() {
  [[ -x "$BIN" ]] && return 0
  command -v go >/dev/null || die "go not found (needs Go >= 1.24)"
  local t0 dir
  t0="$(now)"
  log "building FerretDB $VERSION into $BIN (first run only)"
  # Use the installed toolchain; never try to download another one.
  export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw"
  dir="$(cd / && go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "go mod download $MODULE@$VERSION failed"
  rm -rf "$BUILD"
  mkdir -p "$(dirname "$BUILD")" "$(dirname "$BIN")"
  cp -R "$dir" "$BUILD"
  chmod -R u+w "$BUILD"
  # Format expected by build/version/version.go: like `git describe`, "v<major>.<minor>.<patch>".
  printf '%s\n' "$VERSION" >"$BUILD/build/version/version.txt"
  printf 'doclane-infra\n' >"$BUILD/build/version/package.txt"
  (cd "$BUILD" && go build -trimpath -buildvcs=false -o "$BIN.tmp" ./cmd/ferretdb) >&2
  mv -f "$BIN.tmp" "$BIN"
  rm -rf "$BUILD"
  log "built $("$BIN" --version 2>/dev/null | head -n 1) ($(elapsed "$t0")s)"
}

is_ready() { probe mongo "$PORT"; }

# Prepare and start the process in the background (1 = wipe the data first).
launch() {
  local fresh="$1"
  if port_open "$PORT"; then
    die "port $HOST:$PORT is in use by another process (set DOCLANE_MONGO_PORT)"
  fi
  ensure_binary
  if ((fresh)); then
    log "--fresh: wiping $DATA"
    rm -rf "$DATA"
  fi
  mkdir -p "$DATA/sqlite" "$DATA/state"
  local backend=(--handler=sqlite --sqlite-url="file:$DATA/sqlite/")
  if [[ "$HANDLER" == postgresql ]]; then
    # FerretDB keeps each collection as a table of jsonb in that database (its own schema
    # per Mongo database); the data dir then holds only its state.
    backend=(--handler=postgresql --postgresql-url="$PG_URL")
  fi
  start_bg "$PIDFILE" "$LOGFILE" "$BIN" \
    --listen-addr="$HOST:$PORT" \
    "${backend[@]}" \
    --state-dir="$DATA/state" \
    --telemetry=disable \
    --debug-addr="$DEBUG_ADDR" \
    --log-level="$LOG_LEVEL"
}

service_main ferretdb "$@"
