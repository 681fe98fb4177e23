"""State shared by the agent's request handlers, and the upstream response shape."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from octavia.amphorae.agent.supervisor import HAProxySupervisor


@dataclass
class AgentState:
    """What every request handler needs; built once by the agent's main."""

    supervisor: HAProxySupervisor
    amphora_id: str | None
    haproxy_cmd: str
    base_path: str
    network_dir: str
    topology: str
    cert_file: str
    config_file: str | None
    read_timeout: float
    conf: Any
    ssl_context: ssl.SSLContext | None = None
    background: list[Callable[[], None]] = field(default_factory=list)
    """Stop callbacks of background services (heartbeats) run at shutdown."""


def reply(status: int, message: str, details: str | None = None) -> JSONResponse:
    """Upstream agent's body shape: {"message": ..., "details": ...}."""
    body: dict[str, str] = {"message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse(status_code=status, content=body)


def agent_state(request: Request) -> AgentState:
    state: AgentState = request.app.state.agent
    return state


async def read_body(request: Request) -> bytes:
    """The request body, within `agent_request_read_timeout`."""
    return await asyncio.wait_for(request.body(), timeout=agent_state(request).read_timeout)
