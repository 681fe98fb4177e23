"""Running a provider's completion work off the API's thread and reporting the result.

A provider call must return at once; the API commits its transaction only after the
call returns. A job therefore runs on a small thread pool, first waits (briefly,
bounded) for what it needs to become visible through the driver agent's get socket,
then sends one status message through the status socket, exactly as a third-party
provider would.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from octavia.providers.agent_client import DriverAgentClient

LOG = logging.getLogger(__name__)

VISIBILITY_TIMEOUT = 15.0  # generous: a loaded API may take long to commit
FIRST_POLL_DELAY = 0.001
MAX_POLL_DELAY = 0.05
WORKER_THREADS = 8

T = TypeVar("T")
StatusMessage = dict[str, list[dict[str, str]]]
Job = Callable[[DriverAgentClient], StatusMessage | None]


def wait_for(fetch: Callable[[], T | None], timeout: float = VISIBILITY_TIMEOUT) -> T | None:
    """Call `fetch` with growing pauses until it returns something other than None."""
    deadline = time.monotonic() + timeout
    delay = FIRST_POLL_DELAY
    while True:
        value = fetch()
        if value is not None:
            return value
        if time.monotonic() + delay > deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, MAX_POLL_DELAY)


class ObjectGone(Exception):
    """Something a job needs never became visible: the API rolled back, or it was deleted."""


def require(fetch: Callable[[], T | None], what: str, timeout: float = VISIBILITY_TIMEOUT) -> T:
    value = wait_for(fetch, timeout)
    if value is None:
        raise ObjectGone(f"{what} is not visible through the driver agent")
    return value


class CompletionWorker:
    """A few daemon threads draining a job queue, started lazily (and again in a forked child).

    Daemon threads, unlike a ThreadPoolExecutor's, never hold up interpreter exit: a
    job cut short there leaves its objects PENDING, as a crashed provider would.
    """

    def __init__(self, name: str, threads: int = WORKER_THREADS) -> None:
        self.name = name
        self.threads = threads
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._pid = 0

    def submit(self, job: Job) -> None:
        self._ensure_threads()
        self._jobs.put(job)

    def _ensure_threads(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._jobs = queue.SimpleQueue()
            for number in range(self.threads):
                threading.Thread(target=self._drain, args=(self._jobs,), name=f"{self.name}-{number}",
                                 daemon=True).start()
            self._pid = os.getpid()

    def _drain(self, jobs: queue.SimpleQueue[Job]) -> None:
        while True:
            self._run(jobs.get())

    def _run(self, job: Job) -> None:
        try:
            # A client per job: cheap, and it follows the configured socket paths.
            client = DriverAgentClient()
            message = job(client)
            if message:
                client.update_loadbalancer_status(message)
        except ObjectGone as exc:
            LOG.warning("%s: nothing to report: %s", self.name, exc)
        except Exception as exc:
            LOG.exception("%s: completing an operation failed: %s", self.name, _fault(exc))


def _fault(exc: Exception) -> Any:
    return getattr(exc, "fault_string", None) or getattr(exc, "operator_fault_string", None) or exc
