#!/usr/bin/env bash
# Installs and starts a local PostgreSQL for the test suite, and creates the test database.
# Prints nothing on success; the tests read OCTAVIA_TEST_PG_URL from tools/run-tests.sh.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "not root: PostgreSQL tests will be skipped" >&2
  exit 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q online; then
  pg_lsclusters -h | grep -q "^$ver main" || pg_createcluster "$ver" main >/dev/null
  pg_ctlcluster "$ver" main start
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
su postgres -c "psql -qAtc \"select 1 from pg_roles where rolname='octavia'\"" | grep -q 1 || \
  su postgres -c "psql -qc \"create role octavia login superuser password 'octavia'\""
su postgres -c "psql -qAtc \"select 1 from pg_database where datname='octavia_test'\"" | grep -q 1 || \
  su postgres -c "createdb -O octavia octavia_test"
