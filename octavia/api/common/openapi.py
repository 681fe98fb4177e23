"""What `/openapi.json` says about each v2 route: response bodies, status codes, list parameters.

The routes return JSONResponse themselves, so FastAPI neither validates nor serialises
their bodies; these declarations only describe them. A resource module builds one
`Resource` and passes `**DOC.show()` (etc.) to each route decorator. `install` removes
FastAPI's 422 entries: request validation errors are 400 faults here, as upstream.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, create_model

Codes = Iterable[int]


class Fault(BaseModel):
    """Every error body of the v2 API (WSME's wording)."""

    model_config = ConfigDict(extra="forbid")

    faultcode: Literal["Client", "Server"]
    faultstring: str
    debuginfo: str | None


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    href: str
    rel: Literal["next", "previous"]


ERRORS: dict[int, str] = {
    400: "Invalid request: body, path or query parameters",
    401: "Authentication required (keystone strategy)",
    403: "Forbidden by policy, or over quota",
    404: "The object (or its parent) does not exist or is not visible to the caller",
    406: "The Accept header admits no JSON",
    409: "The load balancer is busy (PENDING_*) or the object conflicts with another",
    413: "Request body too large",
    501: "The provider driver does not support this request",
    503: "The database is unavailable; retry later",
}
ALWAYS = (400, 401, 403, 406, 503)


def errors(codes: Codes) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Fault, "description": ERRORS[code]} for code in sorted(set(codes) | set(ALWAYS))}


@cache
def partial(model: type[BaseModel]) -> type[BaseModel]:
    """The same view with every attribute optional: `fields=` returns only some of them."""
    fields: dict[str, Any] = {name: (f.annotation, None) for name, f in model.model_fields.items()}
    return create_model(
        model.__name__ + "Fields", __config__=ConfigDict(extra="forbid"), __doc__=model.__doc__, **fields
    )


def envelope(name: str, fields: dict[str, Any]) -> type[BaseModel]:
    """A response body model whose attributes are all present, e.g. {"loadbalancer": {...}}."""
    spec: dict[str, Any] = {key: (kind, ...) for key, kind in fields.items()}
    return create_model(name, __config__=ConfigDict(extra="forbid"), **spec)


def filter_schema(column: Any) -> dict[str, Any]:
    """The JSON schema of a filter value on `column` (listing.parse coerces to the column type)."""
    kind = getattr(getattr(column, "type", None), "python_type", str)
    return {bool: {"type": "boolean"}, int: {"type": "integer"}, float: {"type": "number"},
            datetime: {"type": "string", "format": "date-time"}}.get(kind, {"type": "string"})


def list_parameters(filters: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """listing.parse's query interface: pagination, sorting, `fields`, tag and column filters."""

    def param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}

    text = {"type": "string"}
    out = [
        param("limit", {"anyOf": [{"type": "integer"}, {"const": "infinite"}]}, "Page size"),
        param("marker", text, "Id of the last object of the previous page"),
        param("page_reverse", {"type": "boolean"}, "Page backwards from the marker"),
        param("sort", text, "key[:asc|desc],..."),
        param("sort_key", text, "Comma-separated sort keys"),
        param("sort_dir", text, "Comma-separated asc/desc"),
        param("fields", {"type": "array", "items": text}, "Only these attributes"),
    ]
    for name in ("tags", "tags-any", "not-tags", "not-tags-any"):
        out.append(param(name, text, "Comma-separated tags"))
    out.extend(param(name, schema, "Exact match") for name, schema in filters)
    return out


@dataclass(frozen=True)
class Resource:
    """The OpenAPI description of one resource's routes.

    `key` is the singular envelope key, `collection` the list key, `links` the list's
    links key when it has one (flavor profiles keep upstream's singular spelling).
    """

    key: str
    view: type[BaseModel]
    collection: str | None = None
    links: str | None = None
    filters: tuple[tuple[str, dict[str, Any]], ...] = ()

    @cached_property
    def full_body(self) -> type[BaseModel]:
        return envelope(self.view.__name__ + "Body", {self.key: self.view})

    @cached_property
    def partial_body(self) -> type[BaseModel]:
        return envelope(self.view.__name__ + "FieldsBody", {self.key: partial(self.view)})

    @cached_property
    def list_body(self) -> type[BaseModel]:
        assert self.collection is not None
        body: dict[str, Any] = {self.collection: list[partial(self.view)]}  # type: ignore[misc]  # run-time model
        if self.links:
            body[self.links] = list[Link]
        return envelope(self.view.__name__ + "List", body)

    def _ok(self, status: int, model: type[BaseModel] | None, codes: Codes) -> dict[str, Any]:
        responses: dict[int | str, dict[str, Any]] = errors(codes)
        if model is None:
            # No body: plain Response, so the document lists no media type for it.
            responses[status] = {"description": "Accepted" if status == 202 else "No content"}
            return {"responses": responses, "response_class": Response}
        responses[status] = {"model": model}
        return {"responses": responses}

    def listing(self, *codes: int, filtered: bool = True) -> dict[str, Any]:
        """GET on the collection; `filtered=False` for collections without listing.parse."""
        out = self._ok(200, self.list_body, codes)
        if filtered:
            out["openapi_extra"] = {"parameters": list_parameters(self.filters)}
        return out

    def show(self, *codes: int) -> dict[str, Any]:
        return self._ok(200, self.partial_body, (404, *codes))

    def create(self, *codes: int) -> dict[str, Any]:
        return self._ok(201, self.full_body, (404, 409, 413, *codes))

    def update(self, *codes: int, status: int = 200) -> dict[str, Any]:
        return self._ok(status, self.full_body, (404, 409, 413, *codes))

    def delete(self, *codes: int, status: int = 204) -> dict[str, Any]:
        return self._ok(status, None, (404, 409, *codes))

    def action(self, status: int, model: type[BaseModel] | None, *codes: int) -> dict[str, Any]:
        """Any other route of the resource (stats, status tree, failover...)."""
        return self._ok(status, model, (404, *codes))


def install(app: FastAPI) -> None:
    """Serve the document without FastAPI's 422 responses (they never happen)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                                 description=app.description)
            for path in schema["paths"].values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            components = schema.get("components", {}).get("schemas", {})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            add_parent_links(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]  # FastAPI's documented custom-schema hook


def _envelope(schema: dict[str, Any], ref_holder: dict[str, Any] | None) -> tuple[str, set[str]] | None:
    """(envelope key, attribute names) of a `{"<key>": {...}}` body schema, if it is one."""
    components = schema["components"]["schemas"]
    ref = ((ref_holder or {}).get("content", {}).get("application/json", {}).get("schema", {})).get("$ref")
    if not ref:
        return None
    outer = components[ref.rsplit("/", 1)[-1]].get("properties", {})
    if len(outer) != 1:
        return None
    key, inner = next(iter(outer.items()))
    inner_ref = inner.get("$ref")
    fields = components[inner_ref.rsplit("/", 1)[-1]].get("properties", {}) if inner_ref else {}
    return key, set(fields)


def add_parent_links(schema: dict[str, Any]) -> None:
    """Link each create to the creates of its children: `{"loadbalancer": {"id"}}` feeds
    `loadbalancer_id` of a listener or pool POST (what a client does next)."""
    creates = {
        path: item["post"] for path, item in schema["paths"].items()
        if "post" in item and "201" in item["post"].get("responses", {})
    }
    for path, op in creates.items():
        made = _envelope(schema, op["responses"]["201"])
        if made is None:
            continue
        key, _ = made
        for child_path, child in creates.items():
            body = _envelope(schema, child.get("requestBody"))
            if child_path == path or body is None or f"{key}_id" not in body[1]:
                continue
            pointer = child_path.replace("~", "~0").replace("/", "~1")
            op["responses"]["201"].setdefault("links", {})[f"create_{body[0]}"] = {
                "operationRef": f"#/paths/{pointer}/post",
                "requestBody": {body[0]: {f"{key}_id": f"$response.body#/{key}/id"}},
            }
