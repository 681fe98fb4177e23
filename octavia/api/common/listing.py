"""Collection GETs: filters, tag filters, sorting, keyset pagination, `fields` and links.

A resource declares which API attribute names map to which columns; anything else in
the query string is a 400, as upstream.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Integer, Select, and_, exists, false, or_
from sqlalchemy.orm import InstrumentedAttribute

from octavia.common import exceptions
from octavia.common.config import CONF
from octavia.db import models

RESERVED = {
    "fields", "sort", "sort_key", "sort_dir", "limit", "marker", "page_reverse",
    "tags", "tags-any", "not-tags", "not-tags-any",
}
TRUE_WORDS = {"true", "t", "yes", "y", "on", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "off", "0"}


@dataclass
class ListParams:
    filters: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    tags_any: list[str] = field(default_factory=list)
    not_tags: list[str] = field(default_factory=list)
    not_tags_any: list[str] = field(default_factory=list)
    sort: list[tuple[str, str]] = field(default_factory=list)
    sort_param: str | None = None
    sort_key_param: str | None = None
    sort_dir_param: str | None = None
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False
    fields: list[str] = field(default_factory=list)


def _split(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _coerce(column: InstrumentedAttribute[Any], raw: str) -> Any:
    kind = column.property.columns[0].type
    if isinstance(kind, Boolean):
        low = raw.lower()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        raise exceptions.InvalidFilterArgument()
    if isinstance(kind, Integer):
        try:
            value = int(raw)
        except ValueError:
            raise exceptions.InvalidFilterArgument() from None
        # Beyond the column's range no row can match, and PostgreSQL refuses the literal.
        bound = 2**63 if isinstance(kind, BigInteger) else 2**31
        if not -bound <= value < bound:
            raise exceptions.InvalidFilterArgument()
        return value
    if isinstance(kind, Float):
        try:
            return float(raw)
        except ValueError:
            raise exceptions.InvalidFilterArgument() from None
    if isinstance(kind, DateTime):
        try:
            return datetime.datetime.fromisoformat(raw.rstrip("Z"))
        except ValueError:
            raise exceptions.InvalidFilterArgument() from None
    return raw


def parse(query: Any, columns: Mapping[str, Any], extra_filters: Sequence[str] = ()) -> ListParams:
    """Parse a starlette QueryParams (multi-dict) against the resource's filterable columns."""
    p = ListParams()
    seen: set[str] = set()
    for key in query.keys():
        if key in seen:
            continue
        seen.add(key)
        values = query.getlist(key)
        if key == "fields":
            p.fields = list(values)
        elif key == "tags":
            p.tags = _split(values)
        elif key == "tags-any":
            p.tags_any = _split(values)
        elif key == "not-tags":
            p.not_tags = _split(values)
        elif key == "not-tags-any":
            p.not_tags_any = _split(values)
        elif key == "sort":
            p.sort_param = values[-1]
        elif key == "sort_key":
            p.sort_key_param = values[-1]
        elif key == "sort_dir":
            p.sort_dir_param = values[-1]
        elif key == "limit":
            raw = values[-1]
            if raw == "infinite":
                p.limit = None
            else:
                try:
                    n = int(raw)
                except ValueError:
                    raise exceptions.InvalidLimit(key=raw) from None
                p.limit = n if n >= 1 else None
        elif key == "marker":
            p.marker = values[-1]
        elif key == "page_reverse":
            p.page_reverse = values[-1] == "True"
        elif key in columns:
            if len(values) > 1:
                raise exceptions.InvalidFilterArgument()
            p.filters[key] = _coerce(columns[key], values[-1])
        elif key in extra_filters:
            p.filters[key] = values[-1]
        else:
            raise exceptions.InvalidFilterArgument()
    p.sort = _sort_keys(p, columns)
    cap = CONF.api_settings.pagination_max_limit
    p.limit = min(p.limit, cap) if p.limit else cap
    return p


def _sort_keys(p: ListParams, columns: Mapping[str, Any]) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if p.sort_param:
        for part in p.sort_param.split(","):
            name, _, direction = part.strip().partition(":")
            keys.append((name, direction or "asc"))
    elif p.sort_key_param:
        names = [k.strip() for k in p.sort_key_param.split(",")]
        dirs = [d.strip() for d in (p.sort_dir_param or "").split(",") if d.strip()]
        keys = [(n, dirs[i] if i < len(dirs) else "asc") for i, n in enumerate(names)]
    for name, direction in keys:
        if name not in columns:
            raise exceptions.InvalidSortKey(key=name)
        if direction not in ("asc", "desc"):
            raise exceptions.InvalidSortDirection(key=direction)
    chosen = {n for n, _ in keys}
    for tiebreak in ("created_at", "id"):
        if tiebreak not in chosen and tiebreak in columns:
            keys.append((tiebreak, "asc"))
    return keys


class Keyed(Protocol):
    """What a listing needs of its model: the `id` column that markers and tags refer to."""

    id: Any


def tag_filters(stmt: Select[Any], model: type[Keyed], p: ListParams) -> Select[Any]:
    id_col = model.id

    def has(tag: str) -> Any:
        return exists().where(models.Tag.resource_id == id_col, models.Tag.tag == tag)

    if p.tags:
        stmt = stmt.where(and_(*[has(t) for t in p.tags]))
    if p.tags_any:
        stmt = stmt.where(or_(*[has(t) for t in p.tags_any]))
    if p.not_tags:
        stmt = stmt.where(~and_(*[has(t) for t in p.not_tags]))
    if p.not_tags_any:
        stmt = stmt.where(~or_(*[has(t) for t in p.not_tags_any]))
    return stmt


def apply(
    session: Any, stmt: Select[Any], model: type[Keyed], columns: Mapping[str, Any], p: ListParams
) -> Select[Any]:
    """Add filters, ordering, the marker condition and the limit (+1 to detect a next page).

    `stmt` arrives already restricted to what the caller may see, and the marker is looked
    up through it: another project's object is as unknown a marker as a missing one.
    """
    visible = stmt
    for key, value in p.filters.items():
        if key in columns:
            stmt = stmt.where(columns[key] == value)
    stmt = tag_filters(stmt, model, p)
    # MySQL already sorts NULLs first ascending and last descending, and has no NULLS FIRST/LAST.
    spell_nulls = session.get_bind().dialect.name not in ("mysql", "mariadb")
    order = []
    for name, direction in p.sort:
        col = columns[name]
        ascending = (direction == "asc") != p.page_reverse
        if spell_nulls:
            order.append(col.asc().nulls_first() if ascending else col.desc().nulls_last())
        else:
            order.append(col.asc() if ascending else col.desc())
    if p.marker:
        marker = session.execute(
            visible.with_only_columns(*[columns[n] for n, _ in p.sort])
            .where(model.id == p.marker).limit(1)
        ).first()
        if marker is None:
            raise exceptions.InvalidMarker(key=p.marker)
        stmt = stmt.where(_after(columns, p, tuple(marker)))
    stmt = stmt.order_by(*order)
    if p.limit:
        stmt = stmt.limit(p.limit + 1)
    return stmt


def _after(columns: Mapping[str, Any], p: ListParams, values: tuple[Any, ...]) -> Any:
    """Rows strictly after the marker in the sort order (keyset pagination, null-aware)."""
    clauses = []
    for i, (name, direction) in enumerate(p.sort):
        ascending = (direction == "asc") != p.page_reverse
        col, val = columns[name], values[i]
        equal = [
            (columns[n] == values[j]) if values[j] is not None else columns[n].is_(None)
            for j, (n, _) in enumerate(p.sort[:i])
        ]
        # Ordering puts NULLs first ascending and last descending on every database.
        if ascending:
            beyond = col.is_not(None) if val is None else col > val
        else:
            beyond = false() if val is None else or_(col < val, col.is_(None))
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


def paginate(rows: list[Any], p: ListParams) -> tuple[list[Any], bool]:
    """Trim the look-ahead row; restore order for reversed pages."""
    more = bool(p.limit) and len(rows) > (p.limit or 0)
    if more:
        rows = rows[: p.limit]
    if p.page_reverse:
        rows.reverse()
    return rows, more


def links(
    base_url: str, items: list[dict[str, Any]] | list[Any], p: ListParams, more: bool
) -> list[dict[str, str]]:
    """Upstream keeps only limit, sort, sort_key, marker and page_reverse in link hrefs."""
    out: list[dict[str, str]] = []
    if not items:
        return out

    def item_id(obj: Any) -> str:
        return obj["id"] if isinstance(obj, dict) else obj.id

    def href(marker: str, reverse: bool) -> str:
        q: list[tuple[str, str]] = [("limit", str(p.limit))]
        if p.sort_param:
            q.append(("sort", p.sort_param))
        if p.sort_key_param:
            q.append(("sort_key", p.sort_key_param))
        q.append(("marker", marker))
        if reverse:
            q.append(("page_reverse", "True"))
        return f"{base_url}?{urlencode(q)}"

    forward_more = more if not p.page_reverse else bool(p.marker)
    backward = bool(p.marker) if not p.page_reverse else more
    if backward:
        out.append({"href": href(item_id(items[0]), True), "rel": "previous"})
    if forward_more:
        out.append({"href": href(item_id(items[-1]), False), "rel": "next"})
    return out


def select_fields(obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    if not fields:
        return obj
    return {k: v for k, v in obj.items() if k in fields}
