"""Secrets never reach a log line or an error body through configuration or database errors.

* Every option holding a secret is `secret=True`, so oslo.config masks it wherever it
  prints values (`log_opt_values`, the sample generator's defaults).
* A database that cannot be reached answers 503 with a fixed body and logs the error's
  class only: a driver message that names the connection (and its password) stays out.

End to end, with real flows and every file searched: tests/integration/faults/test_secrets.py.
"""

from __future__ import annotations

import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from oslo_config import cfg
from sqlalchemy.exc import OperationalError

from octavia.amphorae.agent import config as agent_config
from octavia.api import errors
from octavia.common import config

CONF = config.CONF
SECRET = "s3cr3t-8c1f2e"
SECRET_OPTIONS = [
    ("database", "connection"),
    ("health_manager", "heartbeat_key"),
    ("certificates", "ca_private_key_passphrase"),
]
LOOKS_SECRET = re.compile(r"password|passphrase|secret|token|_key$|^connection$")
# Names that look secret but hold none (a file path, a key pair's name).
NOT_SECRET = {("certificates", "ca_private_key"), ("controller_worker", "amp_ssh_key_name")}


def _all_options() -> list[tuple[str | None, cfg.Opt]]:
    groups: list[tuple[str | None, list[cfg.Opt]]] = [*config.list_opts(), *agent_config.list_opts()]
    return [(group, opt) for group, opts in groups for opt in opts]


def test_every_option_holding_a_secret_is_marked_secret() -> None:
    marked = {(group, opt.name) for group, opt in _all_options() if opt.secret}
    looks = {(group, opt.name) for group, opt in _all_options() if LOOKS_SECRET.search(opt.name)} - NOT_SECRET
    assert set(SECRET_OPTIONS) <= marked
    assert looks <= marked


def test_configuration_dump_masks_secrets(caplog: pytest.LogCaptureFixture) -> None:
    values = {
        ("database", "connection"): f"postgresql+psycopg://octavia:{SECRET}@db.example/octavia",
        ("health_manager", "heartbeat_key"): SECRET,
        ("certificates", "ca_private_key_passphrase"): SECRET,
    }
    for (group, name), value in values.items():
        CONF.set_override(name, value, group=group)
    try:
        with caplog.at_level(logging.INFO):
            CONF.log_opt_values(logging.getLogger("config-dump"), logging.INFO)
    finally:
        for group, name in values:
            CONF.clear_override(name, group=group)
    assert "heartbeat_key" in caplog.text and "****" in caplog.text
    assert SECRET not in caplog.text


def test_unreachable_database_error_body_and_log_hold_no_connection_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    errors.install(app)
    message = f'connection to "postgresql://octavia:{SECRET}@db.example/octavia" failed'

    @app.get("/down")
    def down() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError(message))

    with caplog.at_level(logging.DEBUG), TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/down")
    assert response.status_code == 503
    assert response.json() == {"faultcode": "Server", "debuginfo": None,
                               "faultstring": "The database is unavailable; retry the request later."}
    assert "database unavailable" in caplog.text
    assert SECRET not in response.text and SECRET not in caplog.text
