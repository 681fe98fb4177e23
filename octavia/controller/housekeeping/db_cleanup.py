"""Purging rows that have been DELETED for longer than their expiry age."""

from __future__ import annotations

import datetime
import logging

from sqlalchemy import delete, select

from octavia.common import constants as c
from octavia.db import models
from octavia.db.api import session_scope

LOG = logging.getLogger(__name__)


def _cutoff(age_seconds: int) -> datetime.datetime:
    return models.utcnow() - datetime.timedelta(seconds=age_seconds)


def purge_deleted_amphorae(age_seconds: int) -> int:
    """Remove DELETED amphorae (and their health rows and statistics) older than the age."""
    A = models.Amphora
    with session_scope(write=True) as session:
        stale = session.execute(
            select(A.id).where(A.status == c.DELETED,
                               (A.updated_at.is_(None) & (A.created_at < _cutoff(age_seconds)))
                               | (A.updated_at < _cutoff(age_seconds)))
        ).scalars().all()
        if stale:
            session.execute(delete(models.AmphoraHealth).where(models.AmphoraHealth.amphora_id.in_(stale)))
            session.execute(delete(models.ListenerStatistics)
                            .where(models.ListenerStatistics.amphora_id.in_(stale)))
            session.execute(delete(A).where(A.id.in_(stale)))
    if stale:
        LOG.info("purged %d deleted amphorae", len(stale))
    return len(stale)


def purge_deleted_load_balancers(age_seconds: int) -> int:
    """Remove DELETED load balancers whose amphorae are gone, with their tags."""
    L = models.LoadBalancer
    with session_scope(write=True) as session:
        candidates = session.execute(
            select(L.id).where(L.provisioning_status == c.DELETED,
                               (L.updated_at.is_(None) & (L.created_at < _cutoff(age_seconds)))
                               | (L.updated_at < _cutoff(age_seconds)))
        ).scalars().all()
        blocked = set(session.execute(
            select(models.Amphora.load_balancer_id).where(
                models.Amphora.load_balancer_id.in_(candidates), models.Amphora.status != c.DELETED)
        ).scalars()) if candidates else set()
        doomed = [lb_id for lb_id in candidates if lb_id not in blocked]
        if doomed:
            amphora_table = models.Base.metadata.tables[models.Amphora.__tablename__]
            session.execute(amphora_table.update()
                            .where(models.Amphora.load_balancer_id.in_(doomed))
                            .values(load_balancer_id=None))
            session.execute(delete(models.Tag).where(models.Tag.resource_id.in_(doomed)))
            session.execute(delete(L).where(L.id.in_(doomed)))
    if doomed:
        LOG.info("purged %d deleted load balancers", len(doomed))
    return len(doomed)
