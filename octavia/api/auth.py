"""The three auth strategies: noauth, testing (headers trusted) and keystone.

keystone runs keystonemiddleware's `AuthProtocol` (a WSGI middleware) on each request's
headers in a worker thread: it validates the token and injects the identity headers,
after stripping any the client sent; token validation is never done by hand here.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio

from octavia.api import context
from octavia.common.config import CONF

IDENTITY_HEADERS = (
    "x-project-id", "x-tenant-id", "x-tenant", "x-project-name", "x-tenant-name", "x-user-id", "x-user",
    "x-user-name", "x-domain-id", "x-user-domain-id", "x-project-domain-id", "x-roles", "x-role",
    "x-is-admin-project", "openstack-system-scope", "x-service-roles",
)


class Unauthorized(Exception):
    def __init__(self, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
        super().__init__("unauthorized")
        self.body = body
        self.headers = headers


_keystone_app: Any = None
_keystone_lock = threading.Lock()


def _keystone() -> Any:
    """keystonemiddleware's auth_token around a WSGI app that captures the validated environ."""
    global _keystone_app
    if _keystone_app is None:
        with _keystone_lock:
            if _keystone_app is None:
                from keystonemiddleware import auth_token

                def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
                    environ["octavia.validated"] = True
                    start_response("200 OK", [])
                    return [b""]

                _keystone_app = auth_token.AuthProtocol(inner, {"oslo_config_config": CONF})
    return _keystone_app


def _validate_keystone(headers: dict[str, str]) -> dict[str, str]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "octavia", "SERVER_PORT": "80",
        "wsgi.url_scheme": "http", "wsgi.input": None,
    }
    for key, value in headers.items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = status
        captured["headers"] = response_headers

    body = b"".join(_keystone()(environ, start_response))
    if not environ.get("octavia.validated"):
        extra = [(k.lower().encode(), v.encode()) for k, v in captured.get("headers", [])
                 if k.lower() == "www-authenticate"]
        raise Unauthorized(
            {"error": {"code": 401, "title": "Unauthorized",
                       "message": "The request you have made requires authentication."}}
            if not body.startswith(b"{") else __import__("json").loads(body),
            extra,
        )
    return {
        k[5:].lower().replace("_", "-"): v
        for k, v in environ.items()
        if k.startswith("HTTP_") and isinstance(v, str)
    }


async def authenticate(scope: Any, headers: dict[str, str], request_id: str) -> context.RequestContext:
    strategy = CONF.api_settings.auth_strategy
    if strategy == "keystone":
        validated = await anyio.to_thread.run_sync(_validate_keystone, headers)
        return context.from_headers(validated, strategy, request_id)
    return context.from_headers(headers, strategy, request_id)
