"""State shared by the agent's request handlers, their route table, the upstream response shape.

The agent is a plain Starlette application: FastAPI's import alone costs about half a
second, paid at every amphora start, and the agent needs none of its features.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

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


Handler = Callable[..., Awaitable[Response]]


class RouteTable:
    """Collects handlers with decorators; path parameters arrive as keyword arguments."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, str, Handler]] = []

    def _add(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self._entries.append((method, path, handler))
            return handler

        return decorate

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self._add("GET", path)

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self._add("PUT", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self._add("POST", path)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self._add("DELETE", path)

    def routes(self, prefix: str) -> list[Route]:
        def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def call(request: Request) -> Response:
                return await handler(request, **request.path_params)

            return call

        return [
            Route(prefix + path, endpoint(handler), methods=[method])
            for method, path, handler in self._entries
        ]
