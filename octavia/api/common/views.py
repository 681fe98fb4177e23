"""Helpers shared by the resource modules' ORM-row -> API-dict functions."""

from __future__ import annotations

import datetime
from typing import Any


def ts(value: datetime.datetime | None) -> str | None:
    """Upstream's timestamp format: ISO-8601, UTC, no zone suffix, no microseconds."""
    return value.replace(microsecond=0).isoformat() if value else None


def text(value: str | None) -> str:
    return value if value is not None else ""


def with_tenant(obj: dict[str, Any]) -> dict[str, Any]:
    obj["tenant_id"] = obj["project_id"]
    return obj


def ids(objs: Any) -> list[dict[str, str]]:
    return [{"id": o.id} for o in objs]
