#!/usr/bin/env bash
# Start Kafka, FerretDB and PostgreSQL (in parallel), wait until all answer, then print on
# stdout only the export lines, so that `eval "$(infra/up.sh)"` configures the shell.
# Progress goes to stderr. Idempotent: already-running services are left as they are.
#
#   infra/up.sh [--fresh]     --fresh wipes the services' data first
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for arg in "$@"; do
  case "$arg" in
    --fresh) ;;
    *) echo "usage: $0 [--fresh]" >&2; exit 2 ;;
  esac
done

"$here/kafka.sh" start "$@" >&2 &
kafka_job=$!
"$here/ferretdb.sh" start "$@" >&2 &
ferret_job=$!
"$here/postgres.sh" start "$@" >&2 &
pg_job=$!

rc=0
wait "$kafka_job" || { echo "[up] kafka failed to start" >&2; rc=1; }
wait "$ferret_job" || { echo "[up] ferretdb failed to start" >&2; rc=1; }
wait "$pg_job" || { echo "[up] postgres failed to start" >&2; rc=1; }
if ((rc != 0)); then
  exit "$rc"
fi

echo "export DOCLANE_KAFKA_BOOTSTRAP=127.0.0.1:${DOCLANE_KAFKA_PORT:-19092}"
echo "export DOCLANE_MONGO_URL=mongodb://127.0.0.1:${DOCLANE_MONGO_PORT:-27117}/"
echo "export DOCLANE_SEARCH_URL=postgresql://doclane:doclane@127.0.0.1:${DOCLANE_PG_PORT:-15432}/doclane"
