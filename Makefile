# Quick start: `make run` serves the all-in-one on 127.0.0.1:9876; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint typecheck system-packages postgres mysql rabbitmq sample-config migration bench soak clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

system-packages:
	@./tools/install-system-packages.sh

run: $(STAMP) system-packages
	$(VENV)/bin/octavia-all-in-one $(ARGS)

postgres:
	@./tools/start-postgres.sh

rabbitmq:
	@./tools/start-rabbitmq.sh

mysql:
	@./tools/start-mysql.sh

test: $(STAMP) system-packages postgres mysql rabbitmq
	./tools/run-tests.sh

test-fast: $(STAMP)
	$(VENV)/bin/pytest -q -m "not slow" tests/unit tests/functional

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Settings in pyproject.toml ([tool.mypy]); `make test` runs this before the tests.
typecheck: $(STAMP)
	$(VENV)/bin/mypy

sample-config: $(STAMP)
	$(VENV)/bin/oslo-config-generator --namespace octavia --output-file etc/octavia.conf.sample

migration: $(STAMP)
	./tools/regen-initial-migration.sh

bench: $(STAMP)
	$(PY) bench/api.py

# Ten minutes of mixed API traffic with real amphorae (CI runs 40 s of it); prints RSS/fds.
soak: $(STAMP) system-packages
	OCTAVIA_SOAK_SECONDS=$${OCTAVIA_SOAK_SECONDS:-600} $(VENV)/bin/pytest -q -s -p no:cacheprovider tests/soak

clean:
	rm -rf $(VENV) state .pytest_cache
