#!/usr/bin/env bash
# Regenerates the initial migration from the models (pre-release: there is one revision).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f octavia/db/migrations/versions/0001_initial.py
OCTAVIA_STATE_PATH="$tmp" .venv/bin/python - <<'PY'
from alembic import command
from octavia.common import config
from octavia.db import migration, api
config.init([])
cfg = migration.alembic_config()
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
f=$(ls octavia/db/migrations/versions/0001_*.py)
mv "$f" octavia/db/migrations/versions/0001_initial.py
rm -rf "$tmp"
echo "wrote octavia/db/migrations/versions/0001_initial.py"
