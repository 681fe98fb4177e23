#!/usr/bin/env bash
# Installs and starts a local RabbitMQ for the clustered-mode tests (several workers
# consuming casts over oslo.messaging's rabbit driver). Prints nothing on success.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "not root: RabbitMQ tests will be skipped" >&2
  exit 0
fi
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The package's post-install tries to start the service; without an init system that
  # fails harmlessly, and the server is started below.
  apt-get install -y -qq rabbitmq-server >/dev/null 2>&1 || dpkg -s rabbitmq-server >/dev/null
fi
if ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
  export HOME=/var/lib/rabbitmq
  (cd /var/lib/rabbitmq && setsid su rabbitmq -s /bin/sh -c "rabbitmq-server" \
      >/var/log/rabbitmq/octavia-tests-start.log 2>&1 < /dev/null &)
  for _ in $(seq 1 120); do
    rabbitmq-diagnostics -q ping >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
rabbitmq-diagnostics -q ping >/dev/null
