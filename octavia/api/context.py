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
    domain_id: str | None = None
    user_domain_id: str | None = None
    project_domain_id: str | None = None
    service_roles: list[str] = field(default_factory=list)

    @property
    def quotas_enforced(self) -> bool:
        return self.auth_strategy != "noauth"

    def credentials(self) -> dict[str, Any]:
        """What oslo.policy checks rules against.

        Absent identity is left out rather than passed as None: oslo.policy compares
        `project_id:%(project_id)s` as strings, so a None project would match a None
        target. `system_scope` / `domain_id` tell oslo.policy the token's scope.
        """
        creds: dict[str, Any] = {
            "roles": self.roles,
            "service_roles": self.service_roles,
            "is_admin": self.is_admin,
            "is_admin_project": self.is_admin_project,
        }
        optional = {
            "project_id": self.project_id, "user_id": self.user_id, "system_scope": self.system_scope,
            "domain_id": self.domain_id, "user_domain_id": self.user_domain_id,
            "project_domain_id": self.project_domain_id,
        }
        creds.update({k: v for k, v in optional.items() if v})
        return creds


def from_headers(headers: dict[str, str], auth_strategy: str, request_id: str) -> RequestContext:
    """Read the identity headers (`X-Project-Id`, `X-Roles`, ...) of a request."""
    env = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    return from_environ(env, auth_strategy, request_id)


def from_environ(env: dict[str, Any], auth_strategy: str, request_id: str) -> RequestContext:
    """Read the identity from WSGI-style `HTTP_*` keys, as oslo.context does.

    `is_admin` is left False: the auth layer sets it from the `context_is_admin` rule.
    """
    oslo = oslo_context.RequestContext.from_environ(env)
    return RequestContext(
        project_id=oslo.project_id,
        user_id=oslo.user_id,
        roles=[r for r in oslo.roles if r],
        system_scope=oslo.system_scope,
        request_id=request_id,
        auth_strategy=auth_strategy,
        is_admin_project=oslo.is_admin_project,
        domain_id=oslo.domain_id,
        user_domain_id=oslo.user_domain_id,
        project_domain_id=oslo.project_domain_id,
        service_roles=[r for r in oslo.service_roles if r],
    )
