"""The agent's FastAPI application: routes, start-up (resume HAProxy, heartbeats) and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from octavia.amphorae.agent import network_plug, routes_amphora, routes_lb, routes_vrrp
from octavia.amphorae.agent.state import AgentState, reply
from octavia.amphorae.agent.vrrp_service import VrrpService

LOG = logging.getLogger(__name__)
HEARTBEAT_MODULE = "octavia.amphorae.agent.heartbeat_sender"


def _start_heartbeats(state: AgentState, vrrp: VrrpService) -> None:
    """Heartbeats are another module's job; run them when that module is installed."""
    try:
        module = importlib.import_module(HEARTBEAT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != HEARTBEAT_MODULE:
            raise
        LOG.warning("%s is not available: this agent sends no heartbeats", HEARTBEAT_MODULE)
        return
    handle = module.start(state.conf, silent=vrrp.silent)
    stop = getattr(handle, "stop", None)
    if callable(stop):
        state.background.append(stop)
    LOG.info("Heartbeats started")


def _stop_background(state: AgentState) -> None:
    for stop in state.background:
        try:
            stop()
        except Exception:
            LOG.exception("Could not stop a background service")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    state: AgentState = app.state.agent
    vrrp: VrrpService = app.state.vrrp
    await asyncio.to_thread(network_plug.reapply_recorded, state.network_dir)
    await asyncio.to_thread(state.supervisor.resume)
    state.supervisor.start_monitor()
    await asyncio.to_thread(vrrp.resume)
    state.background.append(vrrp.shutdown)
    _start_heartbeats(state, vrrp)
    LOG.info("Amphora agent %s ready", state.amphora_id)
    try:
        yield
    finally:
        LOG.info("Amphora agent %s stopping: stopping heartbeats and HAProxy", state.amphora_id)
        _stop_background(state)
        await asyncio.to_thread(state.supervisor.shutdown)


async def _body_timeout(request: Request, exc: Exception) -> JSONResponse:
    return reply(408, "Request Timeout", "The request body did not arrive in time")


async def _os_error(request: Request, exc: Exception) -> JSONResponse:
    """A file or process operation failed (a full disk, say): the controller logs the
    reason it gets back, and the agent's own log may be on that full disk."""
    LOG.error("%s %s failed: %s", request.method, request.url.path, exc)
    return reply(500, "Amphora system error", str(exc))


def create_app(state: AgentState) -> Starlette:
    routes = (routes_amphora.router.routes("/1.0") + routes_lb.router.routes("/1.0")
              + routes_vrrp.router.routes("/1.0"))
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={TimeoutError: _body_timeout, OSError: _os_error})
    app.state.agent = state
    app.state.vrrp = VrrpService.for_agent(state.supervisor)
    return app
