#!/usr/bin/env bash
# Run a command with the test servers up: starts Kafka, FerretDB and PostgreSQL (fresh
# data) unless they already run, exposes them as DOCLANE_TEST_KAFKA_BOOTSTRAP /
# DOCLANE_TEST_MONGO_URL / DOCLANE_TEST_SEARCH_URL, and afterwards stops whatever it
# started. Used by `make test`.
#
#   infra/with-infra.sh COMMAND [ARGS...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/chromium.sh" >/dev/null || echo "with-infra.sh: no Chromium; the browser tests will fail" >&2
started=()
services=(kafka ferretdb postgres)
for service in "${services[@]}"; do
  if ! "$here/$service.sh" status >/dev/null 2>&1; then
    started+=("$service")
  fi
done

cleanup() {
  for service in "${started[@]}"; do
    "$here/$service.sh" stop >&2 || true
  done
}
trap cleanup EXIT

fresh=()
if ((${#started[@]} == ${#services[@]})); then
  fresh=(--fresh)  # nobody else uses them: start from empty data
fi
env_lines="$("$here/up.sh" "${fresh[@]}")"
eval "$env_lines"
export DOCLANE_TEST_KAFKA_BOOTSTRAP="$DOCLANE_KAFKA_BOOTSTRAP"
export DOCLANE_TEST_MONGO_URL="$DOCLANE_MONGO_URL"
export DOCLANE_TEST_SEARCH_URL="$DOCLANE_SEARCH_URL"
# Servers started by the embedded-mode tests must not inherit the distributed switch.
unset DOCLANE_KAFKA_BOOTSTRAP DOCLANE_MONGO_URL DOCLANE_SEARCH_URL

"$@"
