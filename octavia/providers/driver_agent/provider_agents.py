"""Provider agents: long-running helpers that third-party providers ship with the driver agent.

As upstream: each name in `[driver_agent] enabled_provider_agents` is an entry point in
the `octavia.driver_agent.provider_agents` group, a callable taking one argument, an
exit event. Each runs in its own process and is restarted (after a pause) when it
raises, until the exit event is set.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from multiprocessing.synchronize import Event
from typing import Any

LOG = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "octavia.driver_agent.provider_agents"
RESTART_PAUSE = 1.0

AgentFunction = Callable[[Event], Any]


def load_provider_agents(names: Sequence[str]) -> dict[str, AgentFunction]:
    """name -> agent function; a name with no entry point is logged and skipped."""
    agents: dict[str, AgentFunction] = {}
    for name in names:
        found = entry_points(group=ENTRY_POINT_GROUP, name=name)
        if not found:
            LOG.error("Provider agent '%s' is enabled but not installed.", name)
            continue
        try:
            agents[name] = next(iter(found)).load()
        except Exception:
            LOG.exception("Provider agent '%s' could not be loaded.", name)
    return agents


def start_provider_agents(
    agents: dict[str, AgentFunction], exit_event: Event
) -> list[multiprocessing.Process]:
    processes = []
    for name, function in agents.items():
        process = multiprocessing.Process(
            name=f"provider-agent-{name}", target=_supervise, args=(name, function, exit_event), daemon=False
        )
        process.start()
        LOG.info("Started provider agent '%s' (pid %s).", name, process.pid)
        processes.append(process)
    return processes


def stop_provider_agents(processes: list[multiprocessing.Process], exit_event: Event, timeout: float) -> None:
    """Ask every agent to stop through the exit event; terminate those that do not."""
    exit_event.set()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            LOG.warning("Provider agent %s did not stop in time; terminating it.", process.name)
            process.terminate()
            process.join(5)


def _supervise(name: str, function: AgentFunction, exit_event: Event) -> None:
    # The parent handles Ctrl-C and relays it through the exit event.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while not exit_event.is_set():
        try:
            function(exit_event)
        except Exception:
            LOG.exception("Provider agent '%s' failed; restarting it.", name)
            exit_event.wait(RESTART_PAUSE)
            continue
        break
