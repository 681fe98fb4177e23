"""One page of a collection as the response body: `{"<key>": [...], "<key>_links": [...]}`.

Every list route ends the same way once its query is scoped and filtered: run it, cut
the page, render the rows (with their tags for tagged resources), keep the requested
`fields` and link the neighbouring pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import Select
from sqlalchemy.orm import Session

from octavia.api.common import listing
from octavia.api.deps import collection_url
from octavia.db import repositories as repo

Row = Any
Item = dict[str, Any]


def page(key: str, request: Request, params: listing.ListParams, items: list[Item], rows: list[Any],
         more: bool, links_key: str | None = None) -> JSONResponse:
    """The response for rendered `items`; `rows` carry the keys the page links point
    after. `links_key` where upstream does not name the links after the collection."""
    kept = [listing.select_fields(item, params.fields) for item in items]
    links = listing.links(collection_url(request), rows, params, more)
    return JSONResponse({key: kept, links_key or f"{key}_links": links})


def plain_page(session: Session, stmt: Select[Any], key: str, request: Request, params: listing.ListParams,
               render: Callable[[Row], Item], links_key: str | None = None) -> JSONResponse:
    rows, more = listing.paginate(list(session.execute(stmt).scalars()), params)
    return page(key, request, params, [render(row) for row in rows], rows, more, links_key)


def tagged_page(session: Session, stmt: Select[Any], key: str, request: Request, params: listing.ListParams,
                render: Callable[[Row, list[str]], Item]) -> JSONResponse:
    rows, more = listing.paginate(list(session.execute(stmt).scalars()), params)
    tags = repo.load_tags(session, [row.id for row in rows])
    return page(key, request, params, [render(row, tags[row.id]) for row in rows], rows, more)
