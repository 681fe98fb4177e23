"""Apply one verified heartbeat to the database: amphora health, operating statuses, statistics.

Only operating statuses are written (never provisioning status), and only for
objects of the amphora's own load balancer, so an amphora cannot speak for
another tenant's objects.
"""

from __future__ import annotations

import logging

from octavia.common import constants
from octavia.controller.health import health_repository as repo
from octavia.controller.health import heartbeat_packet as hb
from octavia.controller.health.log_throttle import LogThrottle
from octavia.controller.health.status_rollup import missing_listeners, rollup
from octavia.db import models
from octavia.db.api import session_scope

LOG = logging.getLogger(__name__)

_warnings = LogThrottle(window=60.0)


def _unknown(amphora_id: str) -> hb.HeartbeatRejected:
    return hb.HeartbeatRejected(hb.DropReason.UNKNOWN_AMPHORA, f"amphora {amphora_id} is not known")


def update_health(heartbeat: hb.Heartbeat) -> None:
    """Record that the amphora is alive and roll its report up into operating statuses.

    The heartbeat does not count as proof of life when the LB is ACTIVE and an
    enabled listener is missing from it: HAProxy is then not serving, and letting
    the amphora go stale is what gets it failed over.
    Raises HeartbeatRejected(UNKNOWN_AMPHORA) for an amphora the database does not hold.
    """
    now = models.utcnow()
    with session_scope(write=True) as session:
        amphora = repo.load_amphora(session, heartbeat.amphora_id)
        if amphora is None or amphora.status == constants.DELETED:
            raise _unknown(heartbeat.amphora_id)
        alive = True
        tree = repo.load_tree(session, amphora.load_balancer_id) if amphora.load_balancer_id else None
        if tree is not None and tree.provisioning_status != constants.DELETED:
            repo.apply_status_changes(session, rollup(tree, heartbeat))
            missing = missing_listeners(tree, heartbeat)
            if missing and tree.provisioning_status == constants.ACTIVE:
                alive = False
                if _warnings.allow(("missing", amphora.id)):
                    LOG.warning(
                        "Amphora %s reports %d listeners, %d expected (missing %s); "
                        "not refreshing its health",
                        amphora.id, len(heartbeat.listeners), len(heartbeat.listeners) + len(missing),
                        ", ".join(missing),
                    )
        if alive:
            repo.touch_amphora_health(session, amphora.id, now)
            if amphora.status == constants.FAILOVER_STOPPED and repo.clear_failover_stopped(session, amphora):
                LOG.info("Amphora %s is sending heartbeats again; FAILOVER_STOPPED cleared", amphora.id)


def update_stats(heartbeat: hb.Heartbeat) -> None:
    """Store the listener counters as reported (cumulative per amphora; the API sums amphorae)."""
    if not heartbeat.listeners:
        return
    now = models.utcnow()
    with session_scope(write=True) as session:
        amphora = repo.load_amphora(session, heartbeat.amphora_id)
        if amphora is None or amphora.status == constants.DELETED:
            raise _unknown(heartbeat.amphora_id)
        if not amphora.load_balancer_id:
            return
        own = repo.listener_ids_of(session, amphora.load_balancer_id)
        counters = {
            lid: {name: getattr(report, name) for name in hb.COUNTER_NAMES}
            for lid, report in heartbeat.listeners.items()
            if lid in own
        }
        repo.upsert_listener_stats(session, amphora.id, counters, now)


def apply_heartbeat(heartbeat: hb.Heartbeat) -> None:
    """What the receiver does with each verified heartbeat."""
    update_health(heartbeat)
    update_stats(heartbeat)
