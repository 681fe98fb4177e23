"""Turns every error into upstream's WSME-style body: {faultcode, faultstring, debuginfo}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from octavia.common import exceptions

LOG = logging.getLogger(__name__)


def fault(code: int, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=code,
        content={
            "faultcode": "Client" if code < 500 else "Server",
            "faultstring": message,
            "debuginfo": None,
        },
    )


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 300 else text[:300] + "..."


def describe_validation_error(errors: list[dict[str, Any]]) -> str:
    """Render the first pydantic error the way WSME words it."""
    err = errors[0]
    loc = [str(p) for p in err.get("loc", ()) if p != "body" and not isinstance(p, int)]
    kind = err.get("type", "")
    if kind == "json_invalid":
        return "Invalid JSON body: " + err.get("msg", "")
    if kind == "extra_forbidden":
        names = sorted(
            str(e["loc"][-1]) for e in errors if e.get("type") == "extra_forbidden"
        )
        parent = loc[-2] if len(loc) > 1 else (loc[0] if loc else "body")
        return (
            f"Invalid input for field/attribute {parent}. Value: '{_short(err.get('input'))}'. "
            f"Unknown attribute for argument {parent}: {', '.join(names)}"
        )
    attr = loc[-1] if loc else "body"
    value = err.get("input")
    if kind == "missing":
        return f"Invalid input for field/attribute {attr}. Value: 'None'. Mandatory field missing."
    reason = err.get("msg", "Invalid value")
    if kind == "value_error":
        reason = str(err.get("ctx", {}).get("error", reason))
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        reason = "Value should be an integer"
    elif kind in ("bool_parsing", "bool_type"):
        reason = "Value should be a boolean"
    elif kind in ("string_type",):
        reason = "Value should be a string"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        reason = "Value should be an object"
    elif kind == "list_type":
        reason = "Value should be a list"
    return f"Invalid input for field/attribute {attr}. Value: '{_short(value)}'. {reason}"


def install(app: FastAPI) -> None:
    @app.exception_handler(exceptions.APIException)
    async def _api_error(_request: Request, exc: exceptions.APIException) -> JSONResponse:
        if exc.code >= 500:
            LOG.error("request failed: %s", exc.msg)
        return fault(exc.code, exc.msg)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return fault(400, describe_validation_error(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "Error"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "The resource could not be found."
        elif exc.status_code == 405:
            detail = "The method is not allowed for the requested URL."
        response = fault(exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(StaleDataError)
    @app.exception_handler(ObjectDeletedError)
    async def _gone(_request: Request, exc: Exception) -> JSONResponse:
        # The row was deleted by a transaction that committed after this request read it
        # (PostgreSQL, READ COMMITTED): the object no longer exists.
        LOG.info("object deleted concurrently: %s", exc)
        return fault(404, "The resource could not be found.")

    @app.exception_handler(OperationalError)
    async def _db_down(_request: Request, exc: OperationalError) -> JSONResponse:
        LOG.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return fault(503, "The database is unavailable; retry the request later.")

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        LOG.error("database connection pool exhausted")
        return fault(503, "The database is unavailable; retry the request later.")

    @app.exception_handler(DBAPIError)
    async def _db_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        LOG.exception("database error")
        return fault(500, "An unknown exception occurred.")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        LOG.exception("unexpected error")
        return fault(500, "An unknown exception occurred.")
