"""Typed FastAPI dependencies shared by every resource module."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from octavia.api.context import RequestContext


def get_context(request: Request) -> RequestContext:
    ctx: RequestContext = request.state.context
    return ctx


Context = Annotated[RequestContext, Depends(get_context)]


def collection_url(request: Request) -> str:
    """The request URL without its query, for pagination links."""
    return str(request.url.replace(query=""))
