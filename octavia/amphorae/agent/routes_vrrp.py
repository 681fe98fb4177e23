"""keepalived endpoints of the agent (upstream's `PUT /vrrp/upload`, `PUT /vrrp/{action}`)."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from octavia.amphorae.agent.keepalived_process import InvalidKeepalivedConfig, KeepalivedError
from octavia.amphorae.agent.state import RouteTable, read_body, reply
from octavia.amphorae.agent.vrrp_service import ACTIONS, VrrpService
from octavia.amphorae.agent.vrrp_system import VrrpSystemError

LOG = logging.getLogger(__name__)
router = RouteTable()


def vrrp_service(request: Request) -> VrrpService:
    service: VrrpService = request.app.state.vrrp
    return service


@router.put("/vrrp/upload")
async def upload(request: Request) -> JSONResponse:
    """Validate with `keepalived -t`, then install; an invalid configuration changes nothing."""
    text = await read_body(request)
    try:
        await run_in_threadpool(vrrp_service(request).upload, text)
    except InvalidKeepalivedConfig as exc:
        return reply(400, "Invalid keepalived configuration", str(exc))
    except (VrrpSystemError, KeepalivedError) as exc:
        LOG.error("keepalived configuration refused: %s", exc)
        return reply(500, "Failed to upload keepalived configuration", str(exc))
    return reply(200, "OK")


@router.put("/vrrp/{action}")
async def vrrp_action(request: Request, action: str) -> JSONResponse:
    if action not in ACTIONS:
        return reply(400, "Invalid Request", f"Unknown action: {action}")
    try:
        details = await run_in_threadpool(vrrp_service(request).act, action)
    except KeepalivedError as exc:
        LOG.error("keepalived %s failed: %s", action, exc)
        return reply(500, f"Failed to {action} keepalived service", str(exc))
    return reply(202, "OK", details)
