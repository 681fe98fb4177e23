"""The Identity v3 project look-up, for deployments without Keystone (noauth only).

python-openstackclient resolves `--project` and the quota commands' project argument
with `GET /projects/{name_or_id}`, then `GET /projects?name=...`. In noauth mode a
project is just the string callers put in `X-Project-Id`, so every id or name names
a project whose id and name are that string. With real authentication this path is
Keystone's business and answers 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from octavia.common.config import CONF

router = APIRouter(tags=["identity (noauth)"], include_in_schema=False)

DEFAULT_DOMAIN = "default"


def _served() -> bool:
    return bool(CONF.api_settings.auth_strategy == "noauth")


def _not_found(what: str) -> JSONResponse:
    return JSONResponse(status_code=404, content={"error": {
        "code": 404, "title": "Not Found", "message": f"Could not find project: {what}.",
    }})


def project(project_id: str, self_url: str) -> dict[str, Any]:
    return {
        "id": project_id, "name": project_id, "domain_id": DEFAULT_DOMAIN, "parent_id": DEFAULT_DOMAIN,
        "description": "", "enabled": True, "is_domain": False, "tags": [], "options": {},
        "links": {"self": self_url},
    }


@router.get("/projects/{project_id}")
def show_project(project_id: str, request: Request) -> JSONResponse:
    if not _served():
        return _not_found(project_id)
    return JSONResponse({"project": project(project_id, str(request.url.replace(query="")))})


@router.get("/projects")
def list_projects(request: Request) -> JSONResponse:
    """Only look-ups by name (or id) are meaningful: without either there is nothing to list."""
    if not _served():
        return _not_found("projects")
    base = str(request.url.replace(query=""))
    wanted = request.query_params.get("name") or request.query_params.get("id")
    projects = [project(wanted, f"{base}/{wanted}")] if wanted else []
    return JSONResponse({"projects": projects, "links": {"self": str(request.url), "next": None,
                                                          "previous": None}})
