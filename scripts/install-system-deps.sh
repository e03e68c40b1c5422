#!/usr/bin/env bash
# Installs what the tests need from Debian's packages when it is missing:
# a PostgreSQL server (the tests start their own on 127.0.0.1) and Chromium (browser tests).
set -euo pipefail

need=()
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null 2>&1; then
  need+=(postgresql postgresql-contrib)
fi
if [ ! -x /usr/bin/chromium ]; then
  need+=(chromium fonts-dejavu-core)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing from Debian's packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
