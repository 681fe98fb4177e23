#!/usr/bin/env bash
# Installs and starts a local MariaDB for the test suite (without systemd: this also runs in
# containers), and creates the test database and user. Safe to run again; prints nothing on
# success. tools/run-tests.sh then runs the functional tier on it.
# The user may create databases named octavia_test* as well: each test process migrates its
# own (tests/functional/conftest.py), so parallel workers never truncate each other's tables.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "not root: MariaDB tests will be skipped" >&2
  exit 0
fi
if ! command -v mariadbd-safe >/dev/null 2>&1 && ! command -v mysqld_safe >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # Another installer may hold the dpkg lock for a while: wait for it, within bounds.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq mariadb-server >/dev/null
fi
answers() { mariadb -uroot -e 'select 1' >/dev/null 2>&1; }
if ! answers; then
  install -d -o mysql -g mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  safe=$(command -v mariadbd-safe || command -v mysqld_safe)
  setsid "$safe" --user=mysql </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 60); do
    answers && break
    sleep 0.5
  done
  answers || { echo "MariaDB did not start within 30 s" >&2; exit 1; }
fi
mariadb -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS octavia_test CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'octavia'@'localhost' IDENTIFIED BY 'octavia';
CREATE USER IF NOT EXISTS 'octavia'@'127.0.0.1' IDENTIFIED BY 'octavia';
GRANT ALL PRIVILEGES ON `octavia\_test%`.* TO 'octavia'@'localhost';
GRANT ALL PRIVILEGES ON `octavia\_test%`.* TO 'octavia'@'127.0.0.1';
SQL
