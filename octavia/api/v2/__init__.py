"""The v2 resources; each module holds one resource's schemas, views and routes."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

_MODULES = (
    "load_balancers", "listeners", "pools", "members", "health_monitors", "l7policies", "l7rules",
    "quotas", "providers", "flavors", "flavor_profiles", "availability_zones",
    "availability_zone_profiles", "amphorae",
)

ROUTERS: list[APIRouter] = [importlib.import_module(f"octavia.api.v2.{name}").router for name in _MODULES]
