"""`octavia-driver-agent`: serve the provider status/stats/get sockets until SIGTERM."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import sys
import threading
from types import FrameType

from octavia.common import config, logging_setup
from octavia.providers.driver_agent import provider_agents, start_driver_agent

LOG = logging.getLogger(__name__)

PROVIDER_AGENT_STOP_TIMEOUT = 10.0


def main(argv: list[str] | None = None) -> int:
    config.init(sys.argv[1:] if argv is None else argv)
    logging_setup.setup()
    done = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        LOG.info("Signal %d: stopping the driver agent", signum)
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    agent = start_driver_agent()
    exit_event = multiprocessing.Event()
    agents = provider_agents.load_provider_agents(config.CONF.driver_agent.enabled_provider_agents)
    processes = provider_agents.start_provider_agents(agents, exit_event)
    done.wait()
    provider_agents.stop_provider_agents(processes, exit_event, PROVIDER_AGENT_STOP_TIMEOUT)
    agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
