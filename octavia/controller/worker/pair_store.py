"""Database reads and writes of the worker's ACTIVE_STANDBY flows (the pair's roles)."""

from __future__ import annotations

from sqlalchemy import select

from octavia.common import constants as c
from octavia.db import models as M
from octavia.db.api import session_scope

VRRP_ID = 1
PRIORITIES = {c.ROLE_MASTER: 100, c.ROLE_BACKUP: 90}


def topology(lb_id: str) -> str:
    """The LB's topology as the API recorded it (flavor or configured default)."""
    with session_scope() as session:
        value = session.execute(select(M.LoadBalancer.topology).where(M.LoadBalancer.id == lb_id)).scalar()
    return str(value or c.TOPOLOGY_SINGLE)


def allocated_amphorae(lb_id: str) -> list[tuple[str, str | None]]:
    """(id, role) of the amphorae serving the LB, oldest first."""
    with session_scope() as session:
        rows = session.execute(
            select(M.Amphora.id, M.Amphora.role).where(
                M.Amphora.load_balancer_id == lb_id, M.Amphora.status == c.AMPHORA_ALLOCATED,
            ).order_by(M.Amphora.created_at)
        ).all()
    return [(row[0], row[1]) for row in rows]


def survivor_id(lb_id: str, failed_id: str) -> str | None:
    """The amphora of the pair that stays while `failed_id` is replaced."""
    others = [amphora_id for amphora_id, _ in allocated_amphorae(lb_id) if amphora_id != failed_id]
    return others[0] if others else None


def standby_first(amphora_ids: list[str]) -> list[str]:
    """Replacement order for an LB failover: BACKUPs first, so that the VIP moves once."""
    with session_scope() as session:
        query = select(M.Amphora.id, M.Amphora.role).where(M.Amphora.id.in_(amphora_ids))
        roles = {row[0]: row[1] for row in session.execute(query).all()}
    return sorted(amphora_ids, key=lambda amphora_id: roles.get(amphora_id) == c.ROLE_MASTER)


def set_role(amphora_id: str, role: str) -> None:
    with session_scope(write=True) as session:
        amp = session.get(M.Amphora, amphora_id)
        if amp is not None:
            amp.role, amp.vrrp_id, amp.vrrp_priority = role, VRRP_ID, PRIORITIES[role]
            amp.updated_at = M.utcnow()
