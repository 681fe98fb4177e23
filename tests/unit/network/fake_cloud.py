"""An OpenStack cloud made of recorded API response shapes, behind a real openstacksdk
Connection: requests go through keystoneauth and openstacksdk exactly as against a
cloud, and reach a requests transport adapter that answers from a route table.

There is no Nova or Neutron on this machine; the bodies follow the Compute v2.1,
Networking v2.0 and Image v2 API references.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import openstack.connection
import requests
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from requests.adapters import BaseAdapter

ROOT = "http://cloud.test"
ENDPOINTS = {"compute": "/compute/v2.1", "network": "/network", "image": "/image"}
Handler = Callable[[requests.PreparedRequest, re.Match[str]], tuple[int, Any]]

_VERSION_DOCS: dict[str, Any] = {
    "/compute/v2.1": {"version": {"id": "v2.1", "status": "CURRENT", "version": "2.79", "min_version": "2.1",
                                  "links": [{"rel": "self", "href": f"{ROOT}/compute/v2.1/"}]}},
    "/network": {"versions": [{"id": "v2.0", "status": "CURRENT",
                               "links": [{"rel": "self", "href": f"{ROOT}/network/v2.0/"}]}]},
    "/image": {"versions": [{"id": "v2.16", "status": "CURRENT",
                             "links": [{"rel": "self", "href": f"{ROOT}/image/v2/"}]}]},
}


class FakeCloud(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[tuple[str, str, Any]] = []

    def on(self, method: str, path_regex: str, handler: Handler | tuple[int, Any]) -> None:
        """Answer `method` on a path (regex, matched in full after the root)."""
        fn = handler if callable(handler) else (lambda _r, _m, h=handler: h)
        self.routes.insert(0, (method, re.compile(path_regex), fn))

    def connection(self) -> openstack.connection.Connection:
        session = ks_session.Session(auth=noauth.NoAuth())
        session.session.mount(ROOT + "/", self)
        overrides = {f"{svc}_endpoint_override": ROOT + path for svc, path in ENDPOINTS.items()}
        return openstack.connection.Connection(session=session, **overrides)

    def calls(self, method: str, fragment: str) -> list[Any]:
        return [body for m, url, body in self.requests if m == method and fragment in url]

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
        path = (request.url or "")[len(ROOT):].split("?")[0].rstrip("/")
        body = json.loads(request.body) if request.body else None
        self.requests.append((request.method or "", request.url or "", body))
        status, payload = self._answer(request, path)
        response = requests.Response()
        response.status_code = status
        response.url = request.url or ""
        response.request = request
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(payload).encode() if payload is not None else b""
        return response

    def _answer(self, request: requests.PreparedRequest, path: str) -> tuple[int, Any]:
        if request.method == "GET" and path in _VERSION_DOCS:
            return 200, _VERSION_DOCS[path]
        if request.method == "GET" and path in ("/network/v2.0", "/image/v2"):
            return 200, _VERSION_DOCS["/network" if "network" in path else "/image"]
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if method == request.method and match:
                return handler(request, match)
        return 404, {"NeutronError": {"type": "NotFound", "message": f"{path} not found"},
                     "itemNotFound": {"code": 404, "message": f"{path} not found"}}

    def close(self) -> None:
        """Nothing to release."""
