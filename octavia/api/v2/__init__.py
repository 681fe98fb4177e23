"""The v2 resources; each module holds one resource's schemas, views and routes."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

_MODULES = (
    "load_balancers", "listeners", "pools", "members", "health_monitors", "l7policies", "l7rules",
    "quotas", "providers", "flavors", "flavor_profiles", "availability_zones",
    "availability_zone_profiles", "amphorae",
)


def _load() -> list[APIRouter]:
    routers = []
    for name in _MODULES:
        try:
            module = importlib.import_module(f"octavia.api.v2.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"octavia.api.v2.{name}":
                continue
            raise
        routers.append(module.router)
    return routers


ROUTERS = _load()
