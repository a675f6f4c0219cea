#!/usr/bin/env bash
# Stop Kafka, FerretDB and PostgreSQL (in parallel) and remove their pid files. Safe to run when
# nothing is running. Data and caches are kept; see infra/README.md to wipe them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/kafka.sh" stop >&2 &
kafka_job=$!
"$here/ferretdb.sh" stop >&2 &
ferret_job=$!
"$here/postgres.sh" stop >&2 &
pg_job=$!

rc=0
wait "$kafka_job" || rc=1
wait "$ferret_job" || rc=1
wait "$pg_job" || rc=1
run_dir="${DOCLANE_CACHE_DIR:-$HOME/.cache/doclane}/run"
rm -f "$run_dir/kafka.pid" "$run_dir/ferretdb.pid" "$run_dir/postgres.pid"
exit "$rc"
