"""Providers: /v2/lbaas/providers and each provider's flavor / availability zone capabilities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from octavia_lib.api.drivers.provider_base import ProviderDriver

from octavia.api import policy
from octavia.api.common import listing
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.providers import loader

router = APIRouter(prefix="/lbaas/providers", tags=["providers"])
DOC = responses.Resource("provider", responses.Named, "providers")


def _named(entries: dict[str, str], fields: list[str]) -> list[dict[str, Any]]:
    return [listing.select_fields({"name": k, "description": v}, fields) for k, v in entries.items()]


@router.get("", summary="List the enabled provider drivers", **DOC.listing(filtered=False))
def list_providers(request: Request, ctx: Context) -> JSONResponse:
    """Only `fields` is honoured; other query parameters are ignored, as upstream."""
    policy.authorize(ctx, "provider:get_all", ctx.project_id)
    fields = request.query_params.getlist("fields")
    return JSONResponse({"providers": _named(loader.enabled_providers(), fields)})


def _capabilities(
    request: Request, provider: str, getter: Callable[[ProviderDriver], Callable[[], Any]]
) -> list[dict[str, Any]]:
    """The driver's metadata keys, narrowed by exact `name=` / `description=` matches."""
    driver = loader.get_driver(provider)
    metadata: dict[str, str] = dict(loader.call_provider(provider, getter(driver)) or {})
    query = request.query_params
    if "name" in query:
        metadata = {k: v for k, v in metadata.items() if k == query["name"]}
    if "description" in query:
        metadata = {k: v for k, v in metadata.items() if v == query["description"]}
    return _named(metadata, query.getlist("fields"))


@router.get("/{provider}/flavor_capabilities", summary="Flavor metadata a provider supports",
            **DOC.action(200, responses.named_list("flavor_capabilities"), 501))
def flavor_capabilities(provider: str, request: Request, ctx: Context) -> JSONResponse:
    policy.authorize(ctx, "provider-flavor:get_all", ctx.project_id)
    items = _capabilities(request, provider, lambda d: d.get_supported_flavor_metadata)
    return JSONResponse({"flavor_capabilities": items})


@router.get("/{provider}/availability_zone_capabilities",
            summary="Availability zone metadata a provider supports",
            **DOC.action(200, responses.named_list("availability_zone_capabilities"), 501))
def availability_zone_capabilities(provider: str, request: Request, ctx: Context) -> JSONResponse:
    policy.authorize(ctx, "provider-availability-zone:get_all", ctx.project_id)
    items = _capabilities(request, provider, lambda d: d.get_supported_availability_zone_metadata)
    return JSONResponse({"availability_zone_capabilities": items})
