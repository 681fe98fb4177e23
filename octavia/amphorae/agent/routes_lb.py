"""Per-load-balancer endpoints: HAProxy configuration, actions, certificates, status."""

from __future__ import annotations

import contextlib
import hashlib
import os

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from octavia.amphorae.agent import haproxy_files
from octavia.amphorae.agent.haproxy_process import HAProxyError
from octavia.amphorae.agent.layout import InvalidName, lb_paths, write_atomically
from octavia.amphorae.agent.state import AgentState, RouteTable, agent_state, read_body, reply

router = RouteTable()

ACTIONS = ("start", "stop", "reload")


def _lb_not_found(lb_id: str) -> JSONResponse:
    return reply(404, "Loadbalancer Not Found", f"No loadbalancer with UUID: {lb_id}")


@router.get("/listeners")
async def listeners(request: Request) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(agent_state(request).supervisor.statuses))


@router.put("/loadbalancer/{lb_id}/certificates/{filename}")
async def upload_certificate(request: Request, lb_id: str, filename: str) -> Response:
    state = agent_state(request)
    pem = await read_body(request)
    try:
        paths = lb_paths(state.base_path, lb_id)
        target = paths.cert(filename)
    except InvalidName as exc:
        return reply(400, "Invalid request", str(exc))
    if b"-----BEGIN" not in pem:
        return reply(400, "Invalid request", "The body is not a PEM bundle")
    os.makedirs(paths.certs, mode=0o700, exist_ok=True)
    await run_in_threadpool(write_atomically, target, pem, 0o600)
    return reply(200, "OK")


@router.get("/loadbalancer/{lb_id}/certificates/{filename}")
async def certificate_md5(request: Request, lb_id: str, filename: str) -> JSONResponse:
    try:
        target = lb_paths(agent_state(request).base_path, lb_id).cert(filename)
        with open(target, "rb") as handle:
            digest = hashlib.md5(handle.read(), usedforsecurity=False).hexdigest()
    except InvalidName as exc:
        return reply(400, "Invalid request", str(exc))
    except FileNotFoundError:
        return reply(404, "Certificate Not Found", f"No certificate with filename: {filename}")
    return JSONResponse({"md5sum": digest})


@router.delete("/loadbalancer/{lb_id}/certificates/{filename}")
async def delete_certificate(request: Request, lb_id: str, filename: str) -> JSONResponse:
    try:
        target = lb_paths(agent_state(request).base_path, lb_id).cert(filename)
    except InvalidName as exc:
        return reply(400, "Invalid request", str(exc))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target)
    return reply(200, "OK")


def _install(state: AgentState, lb_id: str, text: bytes) -> None:
    state.supervisor.instance(lb_id).install(text)


@router.put("/loadbalancer/{amphora_id}/{lb_id}/haproxy")
async def upload_config(request: Request, amphora_id: str, lb_id: str) -> JSONResponse:
    """Validate with `haproxy -c`, then swap the file; an invalid config changes nothing."""
    state = agent_state(request)
    if state.amphora_id and amphora_id != state.amphora_id:
        return reply(400, "Invalid request", f"This is amphora {state.amphora_id}, not {amphora_id}")
    text = await read_body(request)
    try:
        lb_paths(state.base_path, lb_id)
        await run_in_threadpool(_install, state, lb_id, text)
    except InvalidName as exc:
        return reply(400, "Invalid request", str(exc))
    except haproxy_files.InvalidConfig as exc:
        return reply(400, "Invalid request", str(exc))
    return reply(202, "OK")


@router.get("/loadbalancer/{lb_id}/haproxy")
async def get_config(request: Request, lb_id: str) -> Response:
    try:
        text = haproxy_files.read_config(lb_paths(agent_state(request).base_path, lb_id))
    except InvalidName as exc:
        return reply(400, "Invalid request", str(exc))
    if text is None:
        return _lb_not_found(lb_id)
    return PlainTextResponse(text)


def _act(state: AgentState, lb_id: str, action: str) -> str:
    instance = state.supervisor.instance(lb_id)
    if action == "start":
        return instance.start()
    if action == "reload":
        return instance.reload()
    instance.stop(graceful=True)
    return f"haproxy for {lb_id} stopped"


@router.put("/loadbalancer/{lb_id}/{action}")
async def lb_action(request: Request, lb_id: str, action: str) -> JSONResponse:
    state = agent_state(request)
    if action not in ACTIONS:
        return reply(400, "Invalid Request", f"Unknown action: {action}")
    try:
        if not state.supervisor.known(lb_id):
            return _lb_not_found(lb_id)
        details = await run_in_threadpool(_act, state, lb_id, action)
    except InvalidName as exc:
        return reply(400, "Invalid request", str(exc))
    except HAProxyError as exc:
        return reply(500, f"Error performing {action} on haproxy", str(exc))
    return reply(202, "OK", details)


@router.delete("/loadbalancer/{lb_id}")
async def delete_lb(request: Request, lb_id: str) -> JSONResponse:
    """Kill the load balancer's HAProxy and remove its files."""
    state = agent_state(request)
    try:
        paths = lb_paths(state.base_path, lb_id)
    except InvalidName as exc:
        return reply(400, "Invalid request", str(exc))
    if not os.path.isdir(paths.directory):
        return _lb_not_found(lb_id)
    await run_in_threadpool(state.supervisor.delete, lb_id)
    return reply(200, "OK")
