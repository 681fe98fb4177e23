"""One pure-ASGI middleware for what every request needs before routing.

Request id, `.json` suffix, Accept negotiation (406), body size (413) and the caller's
identity (auth strategy). Kept as raw ASGI: BaseHTTPMiddleware costs more per request
than the whole of a show call.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from octavia.api import auth
from octavia.common import exceptions
from octavia.common.config import CONF

LOG = logging.getLogger("octavia.api.access")

UNAUTHENTICATED = {"/", "/load-balancer/", "/load-balancer", "/healthcheck", "/openapi.json", "/docs"}
JSON_MEDIA = ("application/json", "application/*", "*/*")
NUL_IN_QUERY = "Invalid input: query parameters must not contain a NUL character."


def _accepts_json(accept: str) -> bool:
    """Absent, empty or unparseable Accept is fine; a parseable one must admit JSON."""
    if not accept.strip():
        return True
    media = []
    for part in accept.split(","):
        kind = part.split(";")[0].strip().lower()
        if not kind or "/" not in kind:
            return True
        media.append(kind)
    return any(m in JSON_MEDIA or m.endswith("+json") for m in media)


async def _send_json(send: Send, status: int, body: dict[str, Any], request_id: str,
                     extra: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-openstack-request-id", request_id.encode()),
    ] + (extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _has_nul(query: bytes) -> bool:
    """Whether a decoded query parameter name or value contains a NUL character."""
    if b"\x00" in query:
        return True
    if b"%00" not in query:
        return False
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return any("\x00" in part for pair in pairs for part in pair)


def _fault(code: int, message: str) -> dict[str, Any]:
    return {"faultcode": "Client" if code < 500 else "Server", "faultstring": message, "debuginfo": None}


class APIMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        request_id = "req-" + str(uuid.uuid4())
        path: str = scope["path"]
        if path.endswith(".json") and path != "/openapi.json":
            scope = dict(scope, path=path[: -len(".json")])
            path = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status_holder = {"code": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (b"x-openstack-request-id", request_id.encode())
                ]
            await send(message)

        try:
            if not _accepts_json(headers.get("accept", "")):
                await _send_json(send, 406, {"errors": [{
                    "status": 406, "title": "Not Acceptable",
                    "detail": "Only content type application/json is accepted.",
                    "request_id": request_id}]}, request_id)
                return
            if "\x00" in path:
                # No object id or name can hold a NUL (PostgreSQL text cannot store one).
                await _send_json(send, 404, _fault(404, "The resource could not be found."), request_id)
                return
            if _has_nul(scope.get("query_string", b"")):
                await _send_json(send, 400, _fault(400, NUL_IN_QUERY), request_id)
                return
            limit = CONF.max_request_body_size
            length = headers.get("content-length")
            if length and length.isdigit() and int(length) > limit:
                await _send_json(send, 413, _fault(413, "Request Entity Too Large"), request_id)
                return
            receive = _limited(receive, limit)
            if path not in UNAUTHENTICATED:
                try:
                    ctx = await auth.authenticate(scope, headers, request_id)
                except auth.Unauthorized as exc:
                    await _send_json(send, 401, exc.body, request_id, exc.headers)
                    return
                scope.setdefault("state", {})["context"] = ctx
            await self.app(scope, receive, send_with_id)
        except _TooLarge:
            await _send_json(send, 413, _fault(413, "Request Entity Too Large"), request_id)
        except exceptions.APIException as exc:
            await _send_json(send, exc.code, _fault(exc.code, exc.msg), request_id)
        finally:
            LOG.info(
                "%s %s -> %s in %.1f ms",
                scope["method"], path, status_holder["code"] or "-", (time.monotonic() - started) * 1000,
                extra={"request_id": request_id},
            )


class _TooLarge(Exception):
    pass


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge()
        return message

    return wrapped
