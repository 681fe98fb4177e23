"""Operations a crash of the single-process service cut short, finished at its next start.

With the in-process transport (the all-in-one) this process's worker is the only one
that runs amphora-provider operations, so at start every such load balancer still in a
PENDING_* state lost its flow with the previous process (a crash, SIGKILL, power loss).
Left alone it would stay locked for good: the API answers 409 to every change, delete
and failover of a PENDING_* load balancer. Each is taken to where its operation was
going, from what the database says:

- PENDING_CREATE: the amphorae the cut build left are retired and the LB is built again;
- PENDING_DELETE: the delete runs again (retiring an amphora can be repeated);
- PENDING_UPDATE: an amphora caught mid-build or mid-retire means a failover was cut, so
  the LB fails over again; otherwise the configuration in the database is pushed to its
  amphorae and the pending children are settled (created/updated ACTIVE, deleted gone).

With a shared transport (RabbitMQ) and several workers a starting worker cannot tell a
cut operation from one another worker is running; that needs taskflow's jobboard, and
nothing is done here.
"""

from __future__ import annotations

import logging
import threading

from octavia.common import constants as c
from octavia.controller.worker import rpc, store
from octavia.controller.worker.controller_worker import ControllerWorker
from octavia.controller.worker.tasks import amphora_tasks
from octavia.providers import loader

LOG = logging.getLogger(__name__)

IN_PROCESS_SCHEMES = ("fake:",)


def applies() -> bool:
    """Only this process can have been running the operations (in-process transport)."""
    return rpc.transport_url().startswith(IN_PROCESS_SCHEMES)


def resume_interrupted(worker: ControllerWorker) -> int:
    """Finish every interrupted operation, one LB after another; how many there were."""
    interrupted = store.interrupted_load_balancers(loader.names_of(loader.AMPHORA_DRIVER_PATH))
    for lb_id, status in interrupted:
        LOG.warning("Load balancer %s was left %s by the previous run; finishing its operation",
                    lb_id, status)
        try:
            _resume(worker, lb_id, status)
        except Exception:
            LOG.exception("Finishing the interrupted operation of load balancer %s failed", lb_id)
    return len(interrupted)


def _resume(worker: ControllerWorker, lb_id: str, status: str) -> None:
    if status == c.PENDING_CREATE:
        for amphora_id in store.undeleted_amphora_ids(lb_id):
            amphora_tasks.retire_amphora(amphora_id)
        worker.create_load_balancer(lb_id, availability_zone=store.availability_zone_metadata(lb_id))
    elif status == c.PENDING_DELETE:
        worker.delete_load_balancer(lb_id)
    elif any(s != c.AMPHORA_ALLOCATED for s in store.amphora_statuses(lb_id).values()):
        worker.failover_load_balancer(lb_id)
    else:
        worker.finish_pending_update(lb_id)


def start(worker: ControllerWorker) -> threading.Thread | None:
    """Resume in the background (the API answers meanwhile; those LBs stay 409 until done)."""
    if not applies():
        return None
    thread = threading.Thread(target=resume_interrupted, args=(worker,), name="resume-interrupted",
                              daemon=True)
    thread.start()
    return thread
