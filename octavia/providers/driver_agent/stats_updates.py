"""Applying a provider's statistics message (octavia-lib `update_listener_statistics`).

Format: `{"listeners": [{"id", "active_connections", "bytes_in", "bytes_out",
"request_errors", "total_connections"}]}` with absolute counters. Each listener's row
is replaced. Rows are keyed by (listener, "amphora"); a provider has no amphorae, so the
provider's name stands in for the amphora id and the API's per-listener sum over rows
stays correct next to amphora-reported rows.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from octavia.db import models
from octavia.db.api import session_scope

LOG = logging.getLogger(__name__)

STAT_FIELDS = ("active_connections", "bytes_in", "bytes_out", "request_errors", "total_connections")
DEFAULT_PROVIDER = "amphora"
_AMPHORA_ID_LENGTH = 36


class StatsUpdateError(Exception):
    def __init__(self, fault_string: str, stats_object_id: str | None = None, record: Any = None) -> None:
        super().__init__(fault_string)
        self.fault_string = fault_string
        self.stats_object_id = stats_object_id
        self.record = record

    def reply(self) -> dict[str, Any]:
        response: dict[str, Any] = {
            "status_code": 500,
            "fault_string": self.fault_string,
            "stats_object": "listeners",
        }
        if self.stats_object_id is not None:
            response["stats_object_id"] = self.stats_object_id
        if self.record is not None:
            response["stats_record"] = self.record
        return response


def apply_stats_update(payload: Any) -> dict[str, Any]:
    try:
        records = parse_stats_update(payload)
        _store(records)
    except StatsUpdateError as exc:
        LOG.warning("Rejected statistics update: %s", exc.fault_string)
        return exc.reply()
    return {"status_code": 200}


def parse_stats_update(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict) or not isinstance(payload.get("listeners", []), list):
        raise StatsUpdateError("A statistics update must be {'listeners': [records]}.")
    records = payload.get("listeners", [])
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise StatsUpdateError("A statistics record must be an object with a string 'id'.", record=record)
        for field in STAT_FIELDS:
            value = record.get(field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise StatsUpdateError(
                    f"'{field}' must be a non-negative integer.", record["id"], record
                )
    return records


def _store(records: list[dict[str, Any]]) -> None:
    if not records:
        return
    ids = {r["id"] for r in records}
    try:
        with session_scope(write=True) as session:
            owners = dict(
                session.execute(
                    select(models.Listener.id, models.LoadBalancer.provider)
                    .join(models.LoadBalancer, models.LoadBalancer.id == models.Listener.load_balancer_id)
                    .where(models.Listener.id.in_(ids))
                ).all()
            )
            for record in records:
                listener_id = record["id"]
                if listener_id not in owners:
                    LOG.warning("Ignoring statistics for unknown listener %s.", listener_id)
                    continue
                owner = (owners[listener_id] or DEFAULT_PROVIDER)[:_AMPHORA_ID_LENGTH]
                row = session.get(models.ListenerStatistics, (listener_id, owner))
                if row is None:
                    row = models.ListenerStatistics(listener_id=listener_id, amphora_id=owner)
                    session.add(row)
                for field in STAT_FIELDS:
                    setattr(row, field, record[field])
    except Exception as exc:
        LOG.exception("Storing listener statistics failed")
        raise StatsUpdateError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
