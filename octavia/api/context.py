"""The caller's identity, built from request headers (oslo.context's parsing rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oslo_context import context as oslo_context


@dataclass
class RequestContext:
    project_id: str | None = None
    user_id: str | None = None
    roles: list[str] = field(default_factory=list)
    is_admin: bool = False
    system_scope: str | None = None
    request_id: str = ""
    auth_strategy: str = "noauth"
    is_admin_project: bool = True

    @property
    def quotas_enforced(self) -> bool:
        return self.auth_strategy != "noauth"

    def credentials(self) -> dict[str, Any]:
        """What oslo.policy checks rules against."""
        return {
            "project_id": self.project_id,
            "user_id": self.user_id,
            "roles": self.roles,
            "is_admin": self.is_admin,
            "system_scope": self.system_scope,
            "is_admin_project": self.is_admin_project,
        }


def from_headers(headers: dict[str, str], auth_strategy: str, request_id: str) -> RequestContext:
    """Read the identity headers; `noauth` makes every caller an admin."""
    env = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    oslo = oslo_context.RequestContext.from_environ(env)
    ctx = RequestContext(
        project_id=oslo.project_id,
        user_id=oslo.user_id,
        roles=[r for r in oslo.roles if r],
        system_scope=oslo.system_scope,
        request_id=request_id,
        auth_strategy=auth_strategy,
        is_admin_project=oslo.is_admin_project,
    )
    ctx.is_admin = auth_strategy == "noauth"
    return ctx
