"""Answering a provider's `get_<object>` request with the provider data model of one object.

Request: `{"object": "<loadbalancers|listeners|pools|members|healthmonitors|l7policies|
l7rules>", "id": "<uuid>"}`. Reply: the object's `to_dict(recurse=True,
render_unsets=True)`, or `{}` when it does not exist (a DELETED LB does not exist). The
protocol has no error shape for gets, so a malformed request is also answered `{}`, and
a database outage is waited out (`DB_RETRY_S`) rather than answered as "not found".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from octavia_lib.api.drivers import data_models as dm
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from octavia.common import constants as c
from octavia.db import models, retry
from octavia.db.api import session_scope
from octavia.providers import convert

LOG = logging.getLogger(__name__)

M = models
# Below octavia-lib's 30 s DRIVER_AGENT_TIMEOUT, so the provider still gets a reply.
DB_RETRY_S = 25.0
_POOL_CHILDREN: tuple[LoaderOption, ...] = (
    selectinload(M.Pool.members),
    selectinload(M.Pool.health_monitor),
)

# object -> (model, eager-loading options, converter)
_GETTERS: dict[str, tuple[type[models.Base], tuple[LoaderOption, ...], Callable[[Any], dm.BaseDataModel]]] = {
    "loadbalancers": (
        M.LoadBalancer,
        (
            selectinload(M.LoadBalancer.pools).selectinload(M.Pool.members),
            selectinload(M.LoadBalancer.pools).selectinload(M.Pool.health_monitor),
            selectinload(M.LoadBalancer.listeners).selectinload(M.Listener.l7policies)
            .selectinload(M.L7Policy.rules),
        ),
        convert.loadbalancer,
    ),
    "listeners": (
        M.Listener,
        (
            selectinload(M.Listener.l7policies).selectinload(M.L7Policy.rules),
            selectinload(M.Listener.default_pool).selectinload(M.Pool.members),
            selectinload(M.Listener.default_pool).selectinload(M.Pool.health_monitor),
        ),
        convert.listener,
    ),
    "pools": (M.Pool, _POOL_CHILDREN, convert.pool),
    "members": (M.Member, (), convert.member),
    "healthmonitors": (M.HealthMonitor, (), convert.healthmonitor),
    "l7policies": (M.L7Policy, (selectinload(M.L7Policy.rules),), convert.l7policy),
    "l7rules": (M.L7Rule, (), convert.l7rule),
}


def answer_get(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        LOG.warning("Ignoring a get request that is not a JSON object.")
        return {}
    kind, object_id = payload.get("object"), payload.get("id")
    if kind not in _GETTERS or not isinstance(object_id, str):
        LOG.warning("Ignoring a get request for object %r id %r.", kind, object_id)
        return {}
    model, options, converter = _GETTERS[kind]

    def read() -> dict[str, Any]:
        with session_scope() as session:
            row = session.get(model, object_id, options=list(options))
            if row is None:
                return {}
            if isinstance(row, M.LoadBalancer) and row.provisioning_status == c.DELETED:
                return {}
            return converter(row).to_dict(recurse=True, render_unsets=True)

    return retry.while_unavailable(read, DB_RETRY_S, f"a get of {kind} {object_id}")
