"""The three auth strategies of rbac.md section 1: noauth, testing and keystone.

* noauth: identity headers read as sent; every caller is admin.
* testing: identity headers read and trusted as sent; admin only through the roles.
* keystone: keystonemiddleware's `auth_token` (a WSGI middleware) runs on each request's
  headers in a worker thread. It drops any identity header the client sent, validates
  `X-Auth-Token` against Keystone and injects the token's identity; a missing or invalid
  token is its 401 (Keystone's JSON error and `WWW-Authenticate`). Token validation is
  never done by hand here.
"""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import anyio

from octavia.api import context, policy
from octavia.common.config import CONF

_UNAUTHORIZED_BODY = {"error": {"code": 401, "title": "Unauthorized",
                                "message": "The request you have made requires authentication."}}
_VALIDATED = "octavia.token_validated"


class Unauthorized(Exception):
    """auth_token refused the request; `body` and `headers` are its 401 response."""

    def __init__(self, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
        super().__init__("unauthorized")
        self.body = body
        self.headers = headers


def _passed(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The application behind auth_token: only records that the request got through."""
    environ[_VALIDATED] = True
    start_response("200 OK", [])
    return [b""]


_keystone_app: Any = None
_keystone_lock = threading.Lock()


def _keystone() -> Any:
    """auth_token configured from [keystone_authtoken] of the service's CONF, built once."""
    global _keystone_app
    if _keystone_app is None:
        with _keystone_lock:
            if _keystone_app is None:
                from keystonemiddleware import auth_token

                _keystone_app = auth_token.AuthProtocol(_passed, {"oslo_config_config": CONF})
    return _keystone_app


def reset() -> None:
    """Forget the auth_token instance (its token cache too), so changed options take effect."""
    global _keystone_app
    _keystone_app = None


def _validate_keystone(headers: dict[str, str], method: str, path: str) -> dict[str, Any]:
    """Run auth_token on the request's headers; the WSGI environ it leaves, or Unauthorized."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "octavia", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": io.StringIO(),
    }
    for key, value in headers.items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    response: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        response["headers"] = response_headers

    body = b"".join(_keystone()(environ, start_response))
    if not environ.get(_VALIDATED):
        try:
            error = json.loads(body)
        except ValueError:
            error = _UNAUTHORIZED_BODY
        extra = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                 for k, v in response.get("headers", []) if k.lower() == "www-authenticate"]
        raise Unauthorized(error, extra)
    return environ


async def authenticate(scope: Any, headers: dict[str, str], request_id: str) -> context.RequestContext:
    """The caller's context under the configured strategy (may raise Unauthorized)."""
    strategy = CONF.api_settings.auth_strategy
    if strategy == "keystone":
        environ = await anyio.to_thread.run_sync(
            _validate_keystone, headers, scope.get("method", "GET"), scope.get("path", "/"))
        ctx = context.from_environ(environ, strategy, request_id)
    else:
        ctx = context.from_headers(headers, strategy, request_id)
    ctx.is_admin = strategy == "noauth" or policy.is_admin(ctx)
    return ctx
