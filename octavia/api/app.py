"""The API application: version discovery, the v2 routers under /v2 and /v2.0, errors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from octavia.api import errors
from octavia.api.common import openapi
from octavia.api.middleware import APIMiddleware
from octavia.api.shims import include_shims
from octavia.api.v2 import ROUTERS, responses
from octavia.common.config import CONF

API_VERSIONS: list[tuple[str, str]] = [
    ("v2.0", "2016-12-11T00:00:00Z"), ("v2.1", "2018-04-20T00:00:00Z"),
    ("v2.2", "2018-07-31T00:00:00Z"), ("v2.3", "2018-12-18T00:00:00Z"),
    ("v2.4", "2018-12-19T00:00:00Z"), ("v2.5", "2019-01-21T00:00:00Z"),
    ("v2.6", "2019-01-25T00:00:00Z"), ("v2.7", "2018-01-25T12:00:00Z"),
    ("v2.8", "2019-02-12T00:00:00Z"), ("v2.9", "2019-03-04T00:00:00Z"),
    ("v2.10", "2019-03-05T00:00:00Z"), ("v2.11", "2019-06-24T00:00:00Z"),
    ("v2.12", "2019-09-11T00:00:00Z"), ("v2.13", "2019-09-13T00:00:00Z"),
    ("v2.14", "2019-11-10T00:00:00Z"), ("v2.15", "2020-03-10T00:00:00Z"),
    ("v2.16", "2020-03-15T00:00:00Z"), ("v2.17", "2020-04-29T00:00:00Z"),
    ("v2.18", "2020-04-29T01:00:00Z"), ("v2.19", "2020-05-12T00:00:00Z"),
    ("v2.20", "2020-08-02T00:00:00Z"), ("v2.21", "2020-09-03T00:00:00Z"),
    ("v2.22", "2020-09-04T00:00:00Z"), ("v2.23", "2020-09-07T00:00:00Z"),
    ("v2.24", "2020-10-15T00:00:00Z"), ("v2.25", "2021-10-02T00:00:00Z"),
    ("v2.26", "2022-08-29T00:00:00Z"), ("v2.27", "2023-05-05T00:00:00Z"),
    ("v2.28", "2023-11-08T00:00:00Z"), ("v2.29", "2024-10-15T00:00:00Z"),
    ("v2.30", "2025-02-26T00:00:00Z"),
]


def version_document(root_url: str) -> dict[str, Any]:
    href = root_url.rstrip("/") + "/v2"
    last = len(API_VERSIONS) - 1
    return {"versions": [
        {"id": vid, "status": "CURRENT" if i == last else "SUPPORTED", "updated": updated,
         "links": [{"href": href, "rel": "self"}]}
        for i, (vid, updated) in enumerate(API_VERSIONS)
    ]}


def _root_router() -> APIRouter:
    router = APIRouter()

    @router.get("/", include_in_schema=True, summary="API version discovery",
                responses={200: {"model": responses.VERSIONS_BODY}})
    def versions(request: Request) -> JSONResponse:
        base = CONF.api_settings.api_base_uri or str(request.base_url)
        return JSONResponse(version_document(base))

    for prefix in ("/v2", "/v2.0"):
        @router.get(prefix, include_in_schema=prefix == "/v2", summary="API version",
                    responses={200: {"content": {"application/json": {"schema": {"const": "v2"}}}},
                               **openapi.errors(())})
        def v2() -> JSONResponse:
            return JSONResponse("v2")

    @router.api_route("/healthcheck", methods=["GET", "HEAD"], include_in_schema=False)
    def healthcheck() -> JSONResponse:
        if not CONF.api_settings.healthcheck_enabled:
            return errors.fault(404, "The resource could not be found.")
        return JSONResponse("OK")

    return router


def create_app() -> FastAPI:
    app = FastAPI(
        title="Octavia-compatible Load Balancing API",
        version="2.30",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    errors.install(app)
    app.include_router(_root_router())
    for router in ROUTERS:
        app.include_router(router, prefix="/v2")
        app.include_router(router, prefix="/v2.0", include_in_schema=False)
    include_shims(app)
    openapi.install(app)
    app.add_middleware(APIMiddleware)
    return app
