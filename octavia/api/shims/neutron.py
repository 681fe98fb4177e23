"""A read-only slice of the Networking (Neutron) v2.0 API, answered by the network driver.

python-octaviaclient resolves `--vip-subnet-id`, `--vip-network-id`, `--vip-port-id`,
`--vip-qos-policy-id`, `--vip-sg-id` and member `--subnet-id` through openstacksdk's
network proxy (`GET /subnets?id=...`, then `?name=...`; `find_*` first GETs by id). A
deployment without Neutron serves those look-ups here, from whatever the configured
network driver knows, so the unmodified CLI works against the all-in-one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from octavia.network import base
from octavia.network import loader as network_loader

router = APIRouter(tags=["networking (read-only)"], include_in_schema=False)

# Query parameters that steer a Neutron listing rather than filter it.
NOT_FILTERS = {"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"}


class NeutronView(Protocol):
    id: str

    def to_neutron_dict(self) -> dict[str, Any]: ...


def _not_found(kind: str, object_id: str) -> JSONResponse:
    """Neutron's own 404 body (openstacksdk only needs the status code)."""
    label = kind.replace("_", " ").capitalize()
    return JSONResponse(status_code=404, content={"NeutronError": {
        "type": f"{kind.title().replace('_', '')}NotFound",
        "message": f"{label} {object_id} could not be found.",
        "detail": "",
    }})


def _selected(obj: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k in fields} if fields else obj


def _page(items: list[dict[str, Any]], request: Request) -> list[dict[str, Any]]:
    """Neutron's marker/limit paging: items after the marker id, at most `limit` of them."""
    query = request.query_params
    marker = query.get("marker")
    if marker:
        ids = [i.get("id") for i in items]
        items = items[ids.index(marker) + 1:] if marker in ids else []
    limit = query.get("limit", "")
    if limit.isdigit() and int(limit) > 0:
        items = items[: int(limit)]
    return items


def _filters(request: Request) -> dict[str, list[str]]:
    query = request.query_params
    return {key: query.getlist(key) for key in query.keys() if key not in NOT_FILTERS}


def _listing(request: Request, collection: str, views: Sequence[NeutronView]) -> JSONResponse:
    fields = request.query_params.getlist("fields")
    items = _page([v.to_neutron_dict() for v in views], request)
    return JSONResponse({collection: [_selected(i, fields) for i in items]})


def _showing(request: Request, kind: str, object_id: str, getter: Callable[[str], NeutronView],
             missing: type[Exception]) -> JSONResponse:
    try:
        view = getter(object_id)
    except missing:
        return _not_found(kind, object_id)
    return JSONResponse({kind: _selected(view.to_neutron_dict(), request.query_params.getlist("fields"))})


def _by_id(getter: Callable[[str], NeutronView], missing: type[Exception],
           filters: dict[str, list[str]]) -> list[NeutronView]:
    """Listing for kinds the driver can only fetch one by one: the ids asked for that exist."""
    found = []
    for object_id in filters.get("id", ()):
        try:
            view = getter(object_id)
        except missing:
            continue
        if base.matches_filters(view.to_neutron_dict(), filters):
            found.append(view)
    return found


@router.get("/networks")
def list_networks(request: Request) -> JSONResponse:
    return _listing(request, "networks", network_loader.get_driver().list_networks(_filters(request)))


@router.get("/networks/{network_id}")
def show_network(network_id: str, request: Request) -> JSONResponse:
    driver = network_loader.get_driver()
    return _showing(request, "network", network_id, driver.get_network, base.NetworkNotFound)


@router.get("/subnets")
def list_subnets(request: Request) -> JSONResponse:
    return _listing(request, "subnets", network_loader.get_driver().list_subnets(_filters(request)))


@router.get("/subnets/{subnet_id}")
def show_subnet(subnet_id: str, request: Request) -> JSONResponse:
    driver = network_loader.get_driver()
    return _showing(request, "subnet", subnet_id, driver.get_subnet, base.SubnetNotFound)


@router.get("/ports")
def list_ports(request: Request) -> JSONResponse:
    return _listing(request, "ports", network_loader.get_driver().list_ports(_filters(request)))


@router.get("/ports/{port_id}")
def show_port(port_id: str, request: Request) -> JSONResponse:
    driver = network_loader.get_driver()
    return _showing(request, "port", port_id, driver.get_port, base.PortNotFound)


@router.get("/qos/policies")
def list_qos_policies(request: Request) -> JSONResponse:
    driver = network_loader.get_driver()
    found = _by_id(driver.get_qos_policy, base.QosPolicyNotFound, _filters(request))
    return _listing(request, "policies", found)


@router.get("/qos/policies/{policy_id}")
def show_qos_policy(policy_id: str, request: Request) -> JSONResponse:
    driver = network_loader.get_driver()
    return _showing(request, "policy", policy_id, driver.get_qos_policy, base.QosPolicyNotFound)


@router.get("/security-groups")
def list_security_groups(request: Request) -> JSONResponse:
    driver = network_loader.get_driver()
    found = _by_id(driver.get_security_group, base.SecurityGroupNotFound, _filters(request))
    return _listing(request, "security_groups", found)


@router.get("/security-groups/{sg_id}")
def show_security_group(sg_id: str, request: Request) -> JSONResponse:
    driver = network_loader.get_driver()
    return _showing(request, "security_group", sg_id, driver.get_security_group,
                    base.SecurityGroupNotFound)
