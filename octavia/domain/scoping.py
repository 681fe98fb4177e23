"""Which projects' objects a caller may list (rbac.md section 3)."""

from __future__ import annotations

from typing import Any

from octavia.api import policy
from octavia.api.common.listing import ListParams
from octavia.api.context import RequestContext
from octavia.common import exceptions


def scope_query(ctx: RequestContext, stmt: Any, model: Any, params: ListParams, resource: str) -> Any:
    """Restrict a list query to what the caller may see, or refuse with 403.

    As upstream: a caller passing `<resource>:get_all-global` sees every project (or the
    one it filters on with `project_id=`); anyone else needs `<resource>:get_all` on the
    project it asks for, by default its own, and sees that project only, silently
    filtered. Asking for another project's objects therefore fails the owner check: 403.
    """
    requested = params.filters.get("project_id")
    if policy.check(ctx, f"{resource}:get_all-global", requested):
        return stmt
    project_id = requested if requested is not None else ctx.project_id
    if project_id is None:
        raise exceptions.NotAuthorized()
    policy.authorize(ctx, f"{resource}:get_all", project_id)
    return stmt.where(model.project_id == project_id)
