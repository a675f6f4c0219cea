#!/usr/bin/env bash
# Make sure Debian's Chromium is installed (the dashboard's browser tests drive it through
# Playwright; `playwright install` would download a browser, which needs the network).
# Prints the browser's path; installs the `chromium` package with apt-get when it is missing.
#
#   infra/chromium.sh
set -euo pipefail

path=/usr/bin/chromium
if [[ ! -x "$path" ]]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium.sh: $path is missing and there is no apt-get; install Chromium by hand" >&2
    exit 1
  fi
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    sudo=(sudo -n)
  fi
  echo "chromium.sh: installing Debian's chromium package" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -qq chromium >&2 \
    || { "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" apt-get install -y -qq chromium >&2; }
fi
if [[ ! -x "$path" ]]; then
  echo "chromium.sh: $path is still missing after apt-get install chromium" >&2
  exit 1
fi
echo "$path"
