# shellcheck shell=bash
# Shared helpers for infra/*.sh. Sourced, not executed.
#
# Layout under the cache dir (outside the repo):
#   $DOCLANE_CACHE_DIR/            default: $HOME/.cache/doclane
#     kafka/libs/                  broker jars (mvn dependency:copy-dependencies)
#     kafka/server.properties      generated at each start
#     bin/ferretdb-<version>       FerretDB binary (go build)
#     build/                       FerretDB source copy (only while building)
#     data/kafka, data/ferretdb    service data
#     postgres/                    PostgreSQL wheel venv and cluster (see postgres.sh)
#     run/<svc>.pid, run/<svc>.log pid files and logs

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${DOCLANE_CACHE_DIR:-$HOME/.cache/doclane}"
# DOCLANE_INFRA_INSTANCE=NAME runs a private copy of a service (its own pid file, log,
# config and data under instances/NAME/) on other ports, reusing the cached jars and
# binaries: tests that restart a server use one, never the shared one.
INSTANCE="${DOCLANE_INFRA_INSTANCE:-}"
if [[ -n "$INSTANCE" ]]; then
  [[ "$INSTANCE" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "bad DOCLANE_INFRA_INSTANCE: $INSTANCE" >&2; exit 2; }
  RUN_DIR="$CACHE_DIR/instances/$INSTANCE/run"
  DATA_DIR="$CACHE_DIR/instances/$INSTANCE/data"
else
  RUN_DIR="$CACHE_DIR/run"
  DATA_DIR="$CACHE_DIR/data"
fi
START_TIMEOUT="${DOCLANE_START_TIMEOUT:-90}"
STOP_TIMEOUT="${DOCLANE_STOP_TIMEOUT:-30}"
HOST=127.0.0.1

mkdir -p "$RUN_DIR" "$DATA_DIR"

SVC="${SVC:-infra}"
log() { printf '[%s] %s\n' "$SVC" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Seconds since the epoch with milliseconds, for progress messages.
now() { date +%s.%N | cut -c1-14; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Serialise concurrent start/stop of one service: lock_service NAME
lock_service() {
  exec 9>"$RUN_DIR/$1.lock"
  flock -w "$((START_TIMEOUT + STOP_TIMEOUT))" 9 || die "could not lock $RUN_DIR/$1.lock"
}

# port_open PORT: something accepts TCP connections on $HOST:PORT
port_open() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

# alive PID: the process exists and is not a zombie
alive() {
  local st
  st="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [[ -n "$st" && "$st" != Z ]]
}

# find_by_marker MARKER: print the pid of a live process whose command line contains
# MARKER (scans /proc; no procps needed). Used when the pid file is missing or wrong.
find_by_marker() {
  local d pid args cmd
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
    args=()
    mapfile -d '' -t args 2>/dev/null <"$d/cmdline" || continue
    ((${#args[@]})) || continue
    [[ "${args[0]}" == *bash || "${args[0]}" == setsid ]] && continue # launcher, not the service
    cmd="${args[*]}"
    if [[ "$cmd" == *"$1"* ]] && alive "$pid"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# pid_of PIDFILE MARKER: print the pid if the file names a live process whose
# command line contains MARKER (guards against a recycled pid). A stale file is
# removed; a running instance without a (valid) pid file is found and re-recorded.
pid_of() {
  local pidfile="$1" marker="$2" pid=""
  if [[ -f "$pidfile" ]]; then
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
      echo "$pid"
      return 0
    fi
    log "removing stale pid file $pidfile (pid ${pid:-?} is gone or is not ours)"
    rm -f "$pidfile"
  fi
  if pid="$(find_by_marker "$marker")"; then
    log "found running instance without a pid file (pid $pid); recording it"
    echo "$pid" >"$pidfile"
    echo "$pid"
    return 0
  fi
  return 1
}

# start_bg PIDFILE LOGFILE CMD...: run CMD detached in its own session/process
# group (pgid == pid), stdin from /dev/null, output to LOGFILE; write its pid.
start_bg() {
  local pidfile="$1" logfile="$2"
  shift 2
  [[ -f "$logfile" ]] && mv -f "$logfile" "$logfile.1"
  rm -f "$pidfile"
  # shellcheck disable=SC2016  # expanded by the inner bash
  setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 9>&- &
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.05
  done
  die "process did not write $pidfile"
}

# wait_ready PIDFILE MARKER LOGFILE PROBE...: poll PROBE until it succeeds;
# fail early if the process dies, or after START_TIMEOUT seconds.
wait_ready() {
  local pidfile="$1" marker="$2" logfile="$3"
  shift 3
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! pid_of "$pidfile" "$marker" >/dev/null 2>&1; then
      log "process exited during startup; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      return 1
    fi
    if "$@" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  log "not ready after ${START_TIMEOUT}s; last lines of $logfile:"
  tail -n 30 "$logfile" >&2 || true
  return 1
}

# stop_pid PIDFILE MARKER: SIGTERM the process group, wait, SIGKILL after STOP_TIMEOUT.
stop_pid() {
  local pidfile="$1" marker="$2" pid
  if ! pid="$(pid_of "$pidfile" "$marker")"; then
    rm -f "$pidfile"
    log "not running"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if alive "$pid"; then
    log "still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$pidfile"
  log "stopped"
}

# probe KIND PORT: protocol-level readiness check (infra/probe.py, stdlib only);
# falls back to a plain TCP check when python3 is missing.
probe() {
  if command -v python3 >/dev/null 2>&1; then
    python3 "$INFRA_DIR/probe.py" "$1" "$HOST" "$2"
  else
    port_open "$2"
  fi
}

# The command line every service script shares. The script defines launch and
# is_ready, and sets PIDFILE, MARKER, LOGFILE, HOST and PORT.
# shellcheck disable=SC2153  # PIDFILE, MARKER, LOGFILE come from the service script
service_main() {
  local name="$1"
  shift
  case "${1:-}" in
    start) shift; service_start "$name" "$@" ;;
    stop) lock_service "$name"; stop_pid "$PIDFILE" "$MARKER" ;;
    status) service_status ;;
    *) echo "usage: $0 {start [--fresh]|stop|status}" >&2; exit 2 ;;
  esac
}

service_status() {
  local pid
  if pid="$(pid_of "$PIDFILE" "$MARKER" 2>/dev/null)" && is_ready; then
    log "running (pid $pid) on $HOST:$PORT"
    return 0
  fi
  log "not running${pid:+ (pid $pid alive but not answering)}"
  return 3
}

# Start the service unless it already runs and answers; --fresh restarts it on empty data.
# shellcheck disable=SC2153
service_start() {
  local name="$1" fresh=0 arg
  shift
  for arg in "$@"; do
    case "$arg" in
      --fresh) fresh=1 ;;
      *) die "unknown option $arg" ;;
    esac
  done
  lock_service "$name"
  local t0 pid
  t0="$(now)"
  if pid="$(pid_of "$PIDFILE" "$MARKER")"; then
    if ((fresh)); then
      stop_pid "$PIDFILE" "$MARKER"
    elif wait_ready "$PIDFILE" "$MARKER" "$LOGFILE" is_ready; then
      log "already running (pid $pid) on $HOST:$PORT"
      return 0
    else
      die "pid $pid is running but not answering on $HOST:$PORT; try: $0 stop"
    fi
  fi
  launch "$fresh"
  if ! wait_ready "$PIDFILE" "$MARKER" "$LOGFILE" is_ready; then
    stop_pid "$PIDFILE" "$MARKER" || true
    die "$name failed to start (log: $LOGFILE)"
  fi
  log "ready on $HOST:$PORT (pid $(cat "$PIDFILE"), $(elapsed "$t0")s)"
}
