#!/usr/bin/env bash
# The whole suite: the type check, unit + functional on SQLite, functional again on PostgreSQL
# and on MariaDB, then the slow data-plane tests. pytest's "no tests ran" (exit 5) is not a
# failure of a tier; a type error fails the run, though the tests still run to report
# everything at once.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/pytest"
status=0

run() {
  "$PYTEST" "$@"
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then status=$rc; fi
}

if ! make -s typecheck; then
  echo "mypy found type errors (make typecheck)"
  status=1
fi
run -q -p no:cacheprovider --disable-warnings -n 2 -m "not slow" tests/unit tests/functional
if [ "$(id -u)" = 0 ] && su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1; then
  OCTAVIA_TEST_DB_URL="postgresql+psycopg://octavia:octavia@127.0.0.1/octavia_test" \
    run -q -p no:cacheprovider --disable-warnings -n 2 -m "not slow and not clients" tests/functional
else
  echo "PostgreSQL not available: skipping the PostgreSQL pass"
fi
if [ "$(id -u)" = 0 ] && mariadb -uroot -e 'select 1' >/dev/null 2>&1; then
  OCTAVIA_TEST_DB_URL="mysql+pymysql://octavia:octavia@127.0.0.1/octavia_test?charset=utf8mb4" \
    run -q -p no:cacheprovider --disable-warnings -n 2 -m "not slow and not clients" tests/functional
else
  echo "MariaDB not available: skipping the MariaDB pass"
fi
run -q -p no:cacheprovider --disable-warnings -m "slow" tests
exit $status
