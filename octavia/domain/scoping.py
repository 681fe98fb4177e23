"""Which projects' objects a caller may list (rbac.md section 3)."""

from __future__ import annotations

from typing import Any

from octavia.api import policy
from octavia.api.common.listing import ListParams
from octavia.api.context import RequestContext
from octavia.common import exceptions


def scope_query(ctx: RequestContext, stmt: Any, model: Any, params: ListParams, resource: str) -> Any:
    """Restrict a list query to what the caller may see, or refuse with 403.

    Global readers see every project unless they filter; others see their own project,
    and asking for another project's objects is a 403.
    """
    requested = params.filters.get("project_id")
    is_global = policy.check(ctx, f"{resource}:get_all-global", requested or ctx.project_id)
    if requested is not None:
        if requested != ctx.project_id and not is_global:
            raise exceptions.NotAuthorized()
        policy.authorize(ctx, f"{resource}:get_all", requested)
        return stmt
    if is_global:
        return stmt
    if not ctx.project_id:
        raise exceptions.NotAuthorized()
    policy.authorize(ctx, f"{resource}:get_all", ctx.project_id)
    return stmt.where(model.project_id == ctx.project_id)
