"""Amphora-wide endpoints: info, details, network plugging, agent config and certificate."""

from __future__ import annotations

import configparser
import io
import json
import logging
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from octavia.amphorae.agent import network_plug, server_tls, system_info
from octavia.amphorae.agent.layout import write_atomically
from octavia.amphorae.agent.state import RouteTable, agent_state, read_body, reply

LOG = logging.getLogger(__name__)
router = RouteTable()


class HostRoute(BaseModel):
    destination: str
    nexthop: str


class AdditionalVip(BaseModel):
    ip_address: str
    subnet_cidr: str
    gateway: str | None = None
    host_routes: list[HostRoute] = []


class VipPlug(BaseModel):
    subnet_cidr: str
    gateway: str | None = None
    mac_address: str | None = None
    interface: str | None = None
    vrrp_ip: str | None = None
    host_routes: list[HostRoute] = []
    mtu: int | None = None
    additional_vips: list[AdditionalVip] = []


class FixedIP(BaseModel):
    ip_address: str
    subnet_cidr: str
    host_routes: list[HostRoute] = []


class NetworkPlug(BaseModel):
    mac_address: str | None = None
    interface: str | None = None
    fixed_ips: list[FixedIP] = []
    mtu: int | None = None


async def _json_body(request: Request, model: type[BaseModel]) -> dict[str, Any]:
    raw = await read_body(request)
    try:
        return model.model_validate(json.loads(raw or b"{}")).model_dump()
    except (ValueError, ValidationError) as exc:
        raise network_plug.PlugError(f"Invalid request body: {exc}") from exc


@router.get("/info")
async def info(request: Request) -> JSONResponse:
    state = agent_state(request)
    return JSONResponse(await run_in_threadpool(system_info.info, state.amphora_id, state.haproxy_cmd))


@router.get("/details")
async def details(request: Request) -> JSONResponse:
    state = agent_state(request)
    listeners = await run_in_threadpool(state.supervisor.statuses)
    body = await run_in_threadpool(
        system_info.details, state.amphora_id, state.haproxy_cmd, state.base_path, listeners, state.topology
    )
    return JSONResponse(body)


def _interface_of(ip_address: str) -> str | None:
    """The interface holding the address; a loopback address (all of 127/8) is on lo."""
    wanted = network_plug.normalized_address(ip_address)
    found = system_info.interfaces()
    for name, interface in found.items():
        for address in interface["addresses"]:
            if network_plug.normalized_address(address.split("/")[0]) == wanted:
                return name
    for name, interface in found.items():
        for address in interface["addresses"]:
            if network_plug.on_loopback_network(wanted, address):
                return name
    return None


@router.get("/interface/{ip_address}")
async def interface_of(request: Request, ip_address: str) -> JSONResponse:
    """Which interface of the amphora holds `ip_address` (upstream: VRRP interface lookup)."""
    try:
        name = await run_in_threadpool(_interface_of, ip_address)
    except network_plug.PlugError as exc:
        return reply(400, "Invalid IP address", str(exc))
    if name is None:
        return reply(404, "Error interface not found for IP address", ip_address)
    return JSONResponse({"interface": name})


def _plug_vip(network_dir: str, topology: str, vip: str, body: dict[str, Any]) -> str:
    plan = network_plug.plan_vip(vip, body, topology)
    if network_plug.loopback_vips(vip, body):
        addresses = [vip] + [extra["ip_address"] for extra in body["additional_vips"]]
        for address in addresses:
            network_plug.check_local_address(address)
        return f"VIP {vip} is on the loopback interface"
    name = network_plug.apply_plan(plan)
    network_plug.record_plan(network_dir, name, plan)
    return f"VIP {vip} plugged on interface {name}"


@router.post("/plug/vip/{vip}")
async def plug_vip(request: Request, vip: str) -> JSONResponse:
    state = agent_state(request)
    try:
        body = await _json_body(request, VipPlug)
        details = await run_in_threadpool(_plug_vip, state.network_dir, state.topology, vip, body)
    except network_plug.PlugError as exc:
        return reply(400, "Invalid VIP", str(exc))
    except network_plug.InterfaceNotFound as exc:
        return reply(404, "Network interface not found", f"No interface matches {exc}")
    except network_plug.NetlinkFailure as exc:
        LOG.error("Plugging VIP %s failed: %s", vip, exc)
        return reply(500, "Error plugging VIP", str(exc))
    return reply(202, "OK", details)


def _plug_network(network_dir: str, body: dict[str, Any]) -> str:
    plan = network_plug.plan_network(body)
    name = network_plug.apply_plan(plan)
    network_plug.record_plan(network_dir, name, plan)
    return f"Plugged on interface {name}"


@router.post("/plug/network")
async def plug_network(request: Request) -> JSONResponse:
    state = agent_state(request)
    try:
        body = await _json_body(request, NetworkPlug)
        details = await run_in_threadpool(_plug_network, state.network_dir, body)
    except network_plug.PlugError as exc:
        return reply(400, "Invalid network", str(exc))
    except network_plug.InterfaceNotFound as exc:
        return reply(404, "Network interface not found", f"No interface matches {exc}")
    except network_plug.NetlinkFailure as exc:
        LOG.error("Plugging a network failed: %s", exc)
        return reply(500, "Error plugging network", str(exc))
    return reply(202, "OK", details)


def _merge_config(path: str, update: configparser.ConfigParser) -> bytes:
    """The agent's file with every option of `update` set (others kept)."""
    merged = configparser.ConfigParser(interpolation=None)
    merged.read(path)
    for section in update.sections():
        if not merged.has_section(section):
            merged.add_section(section)
        for option, value in update.items(section, raw=True):
            merged.set(section, option, value)
    for option, value in update.defaults().items():
        merged.set(configparser.DEFAULTSECT, option, value)
    buffer = io.StringIO()
    merged.write(buffer)
    return buffer.getvalue().encode()


@router.put("/config")
async def update_agent_config(request: Request) -> JSONResponse:
    """Merge the INI body into agent.conf and re-read it (heartbeat targets, interval and key
    take effect; a complete file, as upstream sends, replaces every option it names)."""
    state = agent_state(request)
    text = await read_body(request)
    update = configparser.ConfigParser(interpolation=None)
    try:
        update.read_string(text.decode())
    except (UnicodeDecodeError, configparser.Error) as exc:
        return reply(400, "Invalid request", f"Not an INI configuration: {exc}")
    if state.config_file is None:
        return reply(400, "Invalid request", "The agent was started without a configuration file")
    merged = await run_in_threadpool(_merge_config, state.config_file, update)
    await run_in_threadpool(write_atomically, state.config_file, merged, 0o600)
    state.conf.reload_config_files()
    # The controller sets the topology before plugging the VIP of an ACTIVE_STANDBY pair.
    state.topology = state.conf.controller_worker.loadbalancer_topology
    LOG.info("Agent configuration updated: %s", ", ".join(update.sections()))
    return reply(202, "OK")


@router.put("/certificate")
async def rotate_certificate(request: Request) -> JSONResponse:
    """New server certificate + key; the next TLS handshakes use it (runs on the event loop,
    the thread that performs handshakes, so no handshake sees a half-loaded context)."""
    state = agent_state(request)
    pem = await read_body(request)
    if state.ssl_context is None:
        return reply(400, "Invalid request", "The agent is not serving TLS")
    try:
        server_tls.rotate_certificate(state.ssl_context, state.cert_file, pem)
    except server_tls.InvalidServerCertificate as exc:
        return reply(400, "Invalid certificate", str(exc))
    LOG.info("Agent server certificate rotated")
    return reply(202, "OK")
