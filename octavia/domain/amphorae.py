"""Operator actions on amphorae: statistics, agent config refresh, failover and delete.

The controller worker does the real work. Its entry points
(`octavia.controller.worker.api.<action>(amphora_id)`) are imported when the action
runs, so the API does not depend on the worker being installed; without them, failover
goes through the owning load balancer's provider and delete retires the record.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from octavia.common import constants as c
from octavia.common import exceptions
from octavia.common.config import CONF
from octavia.db import models
from octavia.db import repositories as repo
from octavia.db.api import session_scope
from octavia.providers import loader

LOG = logging.getLogger(__name__)

WORKER_API = "octavia.controller.worker.api"
STAT_FIELDS = ("active_connections", "bytes_in", "bytes_out", "request_errors", "total_connections")


def worker_action(name: str) -> Callable[[str], Any] | None:
    """The worker's entry point for `name`, or None when no worker API is installed."""
    try:
        module = importlib.import_module(WORKER_API)
    except ModuleNotFoundError as exc:
        if exc.name != WORKER_API:
            raise
        return None
    action: Callable[[str], Any] | None = getattr(module, name, None)
    return action


def load(session: Session, amphora_id: str) -> models.Amphora:
    return repo.get_or_404(session, models.Amphora, amphora_id, "amphora")


def statistics(session: Session, amphora_id: str) -> list[dict[str, Any]]:
    """One row per listener the amphora serves (listeners not DELETED); 404 when none."""
    S, L = models.ListenerStatistics, models.Listener
    rows = session.execute(
        select(S, L.load_balancer_id)
        .join(L, L.id == S.listener_id)
        .where(S.amphora_id == amphora_id, L.provisioning_status != c.DELETED)
        .order_by(S.listener_id)
    ).all()
    if not rows:
        raise exceptions.NotFound("Amphora stats for", amphora_id)
    return [
        {"id": amphora_id, "loadbalancer_id": lb_id, "listener_id": stat.listener_id,
         **{f: int(getattr(stat, f) or 0) for f in STAT_FIELDS}}
        for stat, lb_id in rows
    ]


def refresh_agent_config(amphora_id: str) -> None:
    action = worker_action("update_amphora_agent_config")
    if action is None:
        LOG.info("No controller worker installed; agent config of amphora %s left as is.", amphora_id)
        return
    action(amphora_id)


def failover(amphora_id: str) -> None:
    """Lock the owning LB (ACTIVE -> PENDING_UPDATE, else 409), then hand the failover over.

    The lock is committed before the hand-over, as upstream, so the worker sees it; if the
    hand-over fails the LB goes to ERROR rather than staying locked.
    """
    with session_scope(write=True) as session:
        amp = load(session, amphora_id)
        lb = amp.load_balancer
        if lb is not None:
            repo.lock_load_balancer(session, lb.id, child_operation=True)
        lb_id = lb.id if lb is not None else None
        provider = (lb.provider if lb is not None else None) or CONF.api_settings.default_provider_driver
    try:
        action = worker_action("failover_amphora")
        if action is not None:
            action(amphora_id)
        elif lb_id is not None:
            driver = loader.get_driver(provider)
            loader.call_provider(provider, driver.loadbalancer_failover, lb_id)
        else:
            LOG.info("Spare amphora %s has no load balancer and no worker to replace it.", amphora_id)
    except Exception:
        if lb_id is not None:
            with session_scope(write=True) as session:
                lb_row = session.get(models.LoadBalancer, lb_id)
                if lb_row is not None:
                    repo.set_status(session, lb_row, c.ERROR)
        raise


def delete(amphora_id: str) -> None:
    """Only an amphora in ERROR may be deleted; the worker removes its compute instance.

    Without a worker there is nothing to remove, so the record is retired at once.
    """
    action = worker_action("delete_amphora")
    with session_scope(write=True) as session:
        amp = load(session, amphora_id)
        if amp.status != c.ERROR:
            raise exceptions.ImmutableObject("amphora", amp.id)
        amp.status = c.PENDING_DELETE if action is not None else c.DELETED
        amp.updated_at = models.utcnow()
    if action is not None:
        action(amphora_id)
