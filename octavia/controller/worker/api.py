"""What the rest of the service calls on the controller worker.

`failover_amphora` etc. cast to any running worker (oslo.messaging), so callers (the API,
the health manager) return at once; `start_worker` runs a worker's RPC server in this
process (the all-in-one and `octavia-worker`).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from octavia.controller.worker import rpc

LOG = logging.getLogger(__name__)


class Stoppable(Protocol):
    def stop(self) -> None: ...


def failover_amphora(amphora_id: str) -> None:
    rpc.cast("failover_amphora", amphora_id=amphora_id)


def failover_loadbalancer(lb_id: str) -> None:
    rpc.cast("failover_load_balancer", loadbalancer_id=lb_id)


def delete_amphora(amphora_id: str) -> None:
    rpc.cast("delete_amphora", amphora_id=amphora_id)


def update_amphora_agent_config(amphora_id: str) -> None:
    rpc.cast("update_amphora_agent_config", amphora_id=amphora_id)


class RunningWorker:
    """An RPC server consuming the worker topic in this process, and the compute driver
    it warmed up (local amphorae: a spare agent with its imports done)."""

    def __init__(self, server: Any, compute: Any) -> None:
        self._server = server
        self._compute = compute

    def stop(self) -> None:
        self._server.stop()
        self._server.wait()
        self._compute.cool_down()
        LOG.info("Controller worker stopped")


def start_worker() -> RunningWorker:
    """Consume the worker topic; with the in-process transport, also finish what a
    crash of the previous run cut short (`recovery`)."""
    from octavia.controller.worker import drivers, recovery
    from octavia.controller.worker.controller_worker import ControllerWorker
    from octavia.controller.worker.endpoints import WorkerEndpoint

    compute = drivers.compute()
    compute.warm_up()
    worker = ControllerWorker()
    server = rpc.server([WorkerEndpoint(worker)])
    server.start()
    LOG.info("Controller worker consuming topic %s", rpc.CONF.oslo_messaging.topic)
    recovery.start(worker)
    return RunningWorker(server, compute)
