"""Applying a provider's status message (octavia-lib `update_loadbalancer_status`) to the DB.

One message is one transaction: either every record is applied or none is, and the
provider gets an error reply naming the record that failed. Records are applied
children first (members ... load balancers), as upstream does, so a message that
deletes a pool and its members works in any order the provider lists them. A database
outage is waited out (`DB_RETRY_S`) rather than reported, so no update is lost to it.

Leniency follows upstream: a record for an object that no longer exists is skipped
with a warning (a provider racing a cascade delete must not have its whole message
refused), while a malformed record fails the message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from octavia.common import constants as c
from octavia.db import models, retry
from octavia.db.api import session_scope
from octavia.network import data_models as network_models
from octavia.network import loader as network_loader
from octavia.providers.driver_agent import row_removal

LOG = logging.getLogger(__name__)

STATUS_CODE_OK = 200
STATUS_CODE_FAILED = 500
VIP_PORT_PREFIX = "octavia-lb-"
# A database outage shorter than this delays the reply instead of losing the update
# (octavia-lib's client waits DRIVER_AGENT_TIMEOUT = 30 s for it).
DB_RETRY_S = 25.0

TreeModel = (
    models.Member | models.HealthMonitor | models.L7Rule | models.L7Policy | models.Pool
    | models.Listener | models.LoadBalancer
)
# Processing order: children before parents.
OBJECT_MODELS: dict[str, type[TreeModel]] = {
    "members": models.Member,
    "healthmonitors": models.HealthMonitor,
    "l7rules": models.L7Rule,
    "l7policies": models.L7Policy,
    "pools": models.Pool,
    "listeners": models.Listener,
    "loadbalancers": models.LoadBalancer,
}

_REMOVERS: dict[str, Callable[[Session, Collection[str]], None]] = {
    "members": row_removal.delete_members,
    "healthmonitors": row_removal.delete_health_monitors,
    "l7rules": row_removal.delete_l7rules,
    "l7policies": row_removal.delete_l7policies,
    "pools": row_removal.delete_pools,
    "listeners": row_removal.delete_listeners,
}


class StatusUpdateError(Exception):
    """A message (or one record of it) that cannot be applied; becomes the error reply."""

    def __init__(
        self,
        fault_string: str,
        status_object: str | None = None,
        status_object_id: str | None = None,
        status_record: Any = None,
    ) -> None:
        super().__init__(fault_string)
        self.fault_string = fault_string
        self.status_object = status_object
        self.status_object_id = status_object_id
        self.status_record = status_record

    def reply(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status_code": STATUS_CODE_FAILED, "fault_string": self.fault_string}
        if self.status_object is not None:
            response["status_object"] = self.status_object
        if self.status_object_id is not None:
            response["status_object_id"] = self.status_object_id
        if self.status_record is not None:
            response["status_record"] = self.status_record
        return response


def apply_status_update(payload: Any) -> dict[str, Any]:
    """Validate and apply one message; the reply octavia-lib's DriverLibrary expects."""
    try:
        records = parse_status_update(payload)
        released = _apply(records)
    except StatusUpdateError as exc:
        LOG.warning("Rejected status update: %s", exc.fault_string)
        return exc.reply()
    _release_vips(released)
    return {"status_code": STATUS_CODE_OK}


def parse_status_update(payload: Any) -> list[tuple[str, dict[str, Any]]]:
    """(object kind, record) pairs in processing order; StatusUpdateError if malformed."""
    if not isinstance(payload, dict):
        raise StatusUpdateError("A status update must be a JSON object.")
    for key in payload:
        if key not in OBJECT_MODELS:
            LOG.warning("Ignoring unknown object type %r in a status update.", key)
    result: list[tuple[str, dict[str, Any]]] = []
    for kind in OBJECT_MODELS:
        records = payload.get(kind, [])
        if not isinstance(records, list):
            raise StatusUpdateError(f"'{kind}' must be a list of status records.", kind)
        for record in records:
            _check_record(kind, record)
            result.append((kind, record))
    return result


def _check_record(kind: str, record: Any) -> None:
    if not isinstance(record, dict):
        raise StatusUpdateError("A status record must be a JSON object.", kind, status_record=record)
    object_id = record.get("id")
    if not isinstance(object_id, str) or not object_id:
        raise StatusUpdateError("A status record needs a string 'id'.", kind, status_record=record)
    for field, allowed in (
        ("provisioning_status", c.PROVISIONING_STATUSES),
        ("operating_status", c.OPERATING_STATUSES),
    ):
        value = record.get(field)
        if value is not None and value not in allowed:
            raise StatusUpdateError(
                f"Invalid {field} {value!r}; expected one of {', '.join(allowed)}.",
                kind, object_id, record,
            )


def _apply(records: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, network_models.Vip]]:
    """Apply all records in one transaction; returns (LB id, VIP) of LBs that became DELETED."""
    released: list[tuple[str, network_models.Vip]] = []
    kind, object_id = None, None

    def transaction() -> None:
        nonlocal kind, object_id
        released.clear()
        with session_scope(write=True) as session:
            for kind, record in records:
                object_id = record["id"]
                vip = _apply_record(session, kind, record)
                if vip is not None:
                    released.append((object_id, vip))

    try:
        retry.while_unavailable(transaction, DB_RETRY_S, "a status update")
    except StatusUpdateError:
        raise
    except Exception as exc:
        LOG.exception("Status update of %s %s failed", kind, object_id)
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StatusUpdateError(first_line, kind, object_id) from exc
    return released


def _apply_record(session: Session, kind: str, record: dict[str, Any]) -> network_models.Vip | None:
    object_id = record["id"]
    provisioning = record.get("provisioning_status")
    operating = record.get("operating_status")
    model = OBJECT_MODELS[kind]
    if kind == "loadbalancers":
        return _apply_load_balancer(session, object_id, provisioning, operating)
    if provisioning == c.DELETED:
        if session.execute(select(model.id).where(model.id == object_id)).first() is None:
            LOG.info("%s %s reported DELETED is already gone.", kind, object_id)
            return None
        _REMOVERS[kind](session, [object_id])
        return None
    _update_statuses(session, model, kind, object_id, provisioning, operating)
    return None


def _apply_load_balancer(
    session: Session, lb_id: str, provisioning: str | None, operating: str | None
) -> network_models.Vip | None:
    lb = session.get(models.LoadBalancer, lb_id)
    if lb is None or lb.provisioning_status == c.DELETED:
        LOG.warning("Ignoring a status update for missing or deleted load balancer %s.", lb_id)
        return None
    vip = None
    if provisioning == c.DELETED:
        row_removal.delete_load_balancer_children(session, lb_id)
        vip = _vip_of(lb)
    _update_statuses(session, models.LoadBalancer, "loadbalancers", lb_id, provisioning, operating)
    return vip


def _update_statuses(
    session: Session, model: Any, kind: str, object_id: str, provisioning: str | None, operating: str | None
) -> None:
    values = {}
    if provisioning is not None:
        values["provisioning_status"] = provisioning
    if operating is not None:
        values["operating_status"] = operating
    if not values:
        return
    result = cast(CursorResult[Any], session.execute(  # an UPDATE yields a CursorResult
        update(model).where(model.id == object_id).values(**values)
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount == 0:
        LOG.warning("Ignoring a status update for missing %s %s.", kind, object_id)


def _vip_of(lb: models.LoadBalancer) -> network_models.Vip | None:
    if not lb.vip_address or not lb.vip_subnet_id or not lb.vip_port_id:
        return None
    return network_models.Vip(
        ip_address=lb.vip_address,
        port_id=lb.vip_port_id,
        subnet_id=lb.vip_subnet_id,
        network_id=lb.vip_network_id or "",
        qos_policy_id=lb.vip_qos_policy_id,
        octavia_owned=False,  # decided in _release_vips, from the port itself
    )


def _release_vips(released: list[tuple[str, network_models.Vip]]) -> None:
    """Give deleted LBs' VIPs back to the network driver, after the DELETED mark committed.

    As upstream's driver agent does. The row does not record who created the port, so
    the port tells: both network drivers name the ports they create `octavia-lb-<lb id>`;
    any other port was brought by the user and is only unbound, never deleted. A failure
    is logged, not reported: the LB is deleted either way.
    """
    for lb_id, vip in released:
        try:
            driver = network_loader.get_driver()
            port = driver.get_port(vip.port_id)
            vip.octavia_owned = port.name == f"{VIP_PORT_PREFIX}{lb_id}"
            driver.deallocate_vip(vip)
        except Exception:
            LOG.exception("Releasing VIP %s (port %s) of deleted load balancer %s failed",
                          vip.ip_address, vip.port_id, lb_id)
