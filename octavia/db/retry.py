"""Running database work again while the database is unreachable.

Background writers (the driver agent's status and get sockets, the controller worker
finishing a flow) have no client to answer 503 to: if they gave up at the first
`OperationalError` (server gone, connection dropped, SQLite write lock not obtained
within the busy timeout) or at an exhausted connection pool (every connection held by
work that is itself waiting the outage out), the objects they were about to settle would stay PENDING_*
forever. They retry instead, with growing pauses, for a bounded time. Each attempt
runs in its own transaction, which rolls back on failure, so the work must be safe to
run again (status updates and reads are).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

LOG = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_PAUSE = 0.1
MAX_PAUSE = 2.0


def while_unavailable(work: Callable[[], T], budget: float, what: str) -> T:
    """`work()`, retried on OperationalError until `budget` seconds have passed."""
    deadline = time.monotonic() + budget
    pause = FIRST_PAUSE
    attempt = 1
    while True:
        try:
            result = work()
        except (OperationalError, PoolTimeout) as exc:
            if time.monotonic() + pause > deadline:
                raise
            if attempt == 1:
                LOG.warning("Database unavailable during %s (%s); retrying for up to %.0f s",
                            what, _cause(exc), budget)
        else:
            if attempt > 1:
                LOG.info("Database available again for %s after %d attempts", what, attempt)
            return result
        time.sleep(pause)
        pause = min(pause * 2, MAX_PAUSE)
        attempt += 1


def _cause(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return type(orig if orig is not None else exc).__name__
