"""Background database work waits out a short outage and gives up after its budget."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from octavia.db import api as db_api
from octavia.db import retry


def _unavailable() -> OperationalError:
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))


def _pool_exhausted() -> PoolTimeout:
    return PoolTimeout("QueuePool limit of size 10 overflow 20 reached, connection timed out")


@pytest.mark.parametrize("failure", [_unavailable, _pool_exhausted])
def test_work_is_run_again_until_the_database_answers(monkeypatch: pytest.MonkeyPatch,
                                                      failure: Callable[[], Exception]) -> None:
    monkeypatch.setattr(retry, "FIRST_PAUSE", 0.001)
    attempts = []

    def work() -> str:
        attempts.append(1)
        if len(attempts) < 4:
            raise failure()
        return "done"

    assert retry.while_unavailable(work, 5.0, "a test") == "done"
    assert len(attempts) == 4


def test_budget_bounds_the_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "FIRST_PAUSE", 0.01)
    attempts = []

    def work() -> None:
        attempts.append(1)
        raise _unavailable()

    with pytest.raises(OperationalError):
        retry.while_unavailable(work, 0.05, "a test")
    assert 1 < len(attempts) < 10


def test_other_errors_are_not_retried() -> None:
    attempts = []

    def work() -> None:
        attempts.append(1)
        raise IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))

    with pytest.raises(IntegrityError):
        retry.while_unavailable(work, 5.0, "a test")
    assert attempts == [1]


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:////tmp/x.sqlite", db_api.SQLITE_BUSY_TIMEOUT_MS),
    ("sqlite:////tmp/x.sqlite?timeout=2", 2000),
    ("sqlite:////tmp/x.sqlite?timeout=0.5", 500),
])
def test_sqlite_busy_timeout_comes_from_the_url(url: str, expected: int) -> None:
    assert db_api.sqlite_busy_timeout_ms(url) == expected
