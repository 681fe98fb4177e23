"""Every endpoint x every kind of caller: allow/deny exactly as rbac.md sections 2-4.

The data lives in matrix.py; these tests only send the requests and compare. Each test
reports every persona that got the wrong answer, not just the first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from octavia.api import policy
from octavia.common import config
from tests.functional.conftest import ApiClient
from tests.functional.rbac.conftest import World
from tests.functional.rbac.matrix import (
    ALLOWED,
    GLOBAL_SET,
    LB_TREE_PREFIXES,
    LIST_ACCESS,
    PERSONAS,
    ROWS,
    Row,
    fill,
)

CONF = config.CONF
FORBIDDEN = {"faultcode": "Client", "faultstring": "Policy does not allow this request to be performed.",
             "debuginfo": None}


def headers_for(name: str, world: World) -> dict[str, str]:
    persona = PERSONAS[name]
    out = {"X-Roles": persona.roles}
    project = project_of(name, world)
    if project is not None:
        out["X-Project-Id"] = project
    if persona.system_scope:
        out["OpenStack-System-Scope"] = "all"
    return out


def project_of(name: str, world: World) -> str | None:
    project = PERSONAS[name].project
    return getattr(world, project) if project in ("owner", "other", "admin_project") else project


@pytest.fixture(scope="module", params=["new", "legacy"])
def mode(request: pytest.FixtureRequest, rbac_client: ApiClient) -> Iterator[str]:
    """oslo.policy's enforce_new_defaults: True (current defaults) or False (legacy OR-ed in)."""
    policy.get_enforcer()  # registers the [oslo_policy] options
    CONF.set_override("enforce_new_defaults", request.param == "new", group="oslo_policy")
    policy.reset()
    yield request.param
    CONF.clear_override("enforce_new_defaults", group="oslo_policy")
    policy.reset()


def expected(row: Row, persona: str, mode: str, world: World) -> tuple[int, str]:
    """(status, faultstring fragment) this persona must get from this row."""
    if row.no_project is not None and project_of(persona, world) is None:
        return row.no_project
    access = LIST_ACCESS.get(row.access, row.access)
    return (row.ok, row.says) if persona in ALLOWED[mode][access] else (403, FORBIDDEN["faultstring"])


def problems(api: ApiClient, row: Row, persona: str, mode: str, world: World) -> list[str]:
    """What is wrong with this persona's answer (empty when it matches rbac.md)."""
    ids = world.ids()
    resp = api.request(row.method, fill(row.path, ids), json=fill(row.body, ids),
                       headers=headers_for(persona, world))
    want, says = expected(row, persona, mode, world)
    if resp.status_code != want:
        return [f"{persona}: {resp.status_code} (wanted {want}) {resp.text[:160]}"]
    if want == 403 and resp.json() != FORBIDDEN:
        return [f"{persona}: 403 body {resp.text}"]
    if want >= 400 and says not in resp.json()["faultstring"]:
        return [f"{persona}: {want} but {resp.json()['faultstring']!r}, wanted {says!r}"]
    if row.items and want == 200:
        return list_problems(resp.json()[row.items], row, persona, mode, world)
    return []


def list_problems(items: list[dict[str, Any]], row: Row, persona: str, mode: str, world: World) -> list[str]:
    """Global callers see the owner's objects among all projects; others only their own project."""
    sample = fill(row.sample, world.ids())
    key = "project_id" if row.items == "quotas" else "id"
    seen = {item[key] for item in items}
    projects = {item["project_id"] for item in items}
    if persona in ALLOWED[mode][GLOBAL_SET[row.access]]:
        return [] if sample in seen else [f"{persona}: global list lacks {sample}"]
    own = project_of(persona, world)
    if projects - {own}:
        return [f"{persona}: sees projects {sorted(projects - {own})}"]
    if (sample in seen) != (own == world.owner):
        return [f"{persona}: owner's {sample} {'missing' if own == world.owner else 'visible'}"]
    return []


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_endpoint_by_persona(rbac_client: ApiClient, world: World, mode: str, row: Row) -> None:
    wrong = [p for persona in PERSONAS for p in problems(rbac_client, row, persona, mode, world)]
    assert not wrong, "\n".join(wrong)


def test_every_endpoint_is_in_the_matrix(rbac_client: ApiClient, world: World) -> None:
    """Each (method, route) of the API's OpenAPI document is exercised by some row."""
    spec = rbac_client.get("/openapi.json").json()
    routes = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops
              if path.startswith(("/v2/lbaas", "/v2/octavia"))}

    def route_of(row: Row) -> tuple[str, str]:
        path = fill(row.path, world.ids()).split("?")[0]
        matches = [r for r in routes if r[0] == row.method
                   and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", r[1]), path)]
        assert matches, row.id
        return min(matches, key=lambda r: r[1].count("{"))  # a literal segment wins

    assert routes - {route_of(row) for row in ROWS} == set()


LB_TREE_ROWS = [r for r in ROWS if r.path.startswith(LB_TREE_PREFIXES)]


@pytest.mark.parametrize("row", LB_TREE_ROWS, ids=lambda r: r.id)
def test_missing_object_is_404_before_policy(rbac_client: ApiClient, world: World, row: Row) -> None:
    """rbac.md 3: an id that does not exist is a 404 for every caller, even one with no role."""
    last = re.findall(r"\{[^}]+\}", row.path)[-1]
    ids = world.ids()
    path = fill(row.path.replace(last, "{missing}"), ids)
    wrong = []
    for persona in PERSONAS:
        resp = rbac_client.request(row.method, path, json=fill(row.body, ids),
                                   headers=headers_for(persona, world))
        if resp.status_code != 404:
            wrong.append(f"{persona}: {resp.status_code} {resp.text[:120]}")
    assert not wrong, "\n".join(wrong)


LIST_ROWS = [r for r in ROWS if r.items]


@pytest.mark.parametrize("row", LIST_ROWS, ids=lambda r: r.id)
def test_project_id_filter(rbac_client: ApiClient, world: World, row: Row) -> None:
    """`project_id=<other>` is a 403 for non-global callers; admins filter to that project."""
    api, ids = rbac_client, world.ids()
    key = "project_id" if row.items == "quotas" else "id"
    member, admin = headers_for("member", world), headers_for("admin", world)
    resp = api.get(f"{fill(row.path, ids)}?project_id={world.other}", headers=member)
    assert resp.status_code == 403 and resp.json() == FORBIDDEN
    for caller in (member, admin):
        resp = api.get(f"{fill(row.path, ids)}?project_id={world.owner}", headers=caller)
        assert resp.status_code == 200, resp.text
        items = resp.json()[row.items]
        assert {i["project_id"] for i in items} == {world.owner}
        assert fill(row.sample, ids) in {i[key] for i in items}


def test_amphora_project_filter_is_the_load_balancers(rbac_client: ApiClient, world: World) -> None:
    admin = headers_for("admin", world)
    owned = rbac_client.get(f"/v2/octavia/amphorae?project_id={world.owner}", headers=admin).json()
    others = rbac_client.get(f"/v2/octavia/amphorae?project_id={world.other}", headers=admin).json()
    assert world.amphora in {a["id"] for a in owned["amphorae"]}
    assert world.amphora not in {a["id"] for a in others["amphorae"]}


RULE_CASES = [(row, rule) for row in ROWS for rule in row.rules]


@pytest.fixture
def policy_file(tmp_path: Path) -> Iterator[Path]:
    """An [oslo_policy] policy_file the test writes; the enforcer is rebuilt around it."""
    path = tmp_path / f"policy-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text("{}\n")
    policy.get_enforcer()
    CONF.set_override("policy_file", str(path), group="oslo_policy")
    policy.reset()
    yield path
    CONF.clear_override("policy_file", group="oslo_policy")
    policy.reset()


@pytest.mark.parametrize(("row", "rule"), RULE_CASES, ids=[f"{r.id} {rule}" for r, rule in RULE_CASES])
def test_endpoint_checks_its_rule(rbac_client: ApiClient, world: World, policy_file: Path,
                                  row: Row, rule: str) -> None:
    """Denying just this rule in a policy file turns an allowed caller away from the endpoint.

    For a `-global` rule the caller (admin) is not refused but loses the global view.
    """
    ids = world.ids()
    persona = "admin" if row.access in ("admin", "quota_write") or rule.endswith("-global") else "member"
    policy_file.write_text(f'"os_load-balancer_api:{rule}": "!"\n')
    resp = rbac_client.request(row.method, fill(row.path, ids), json=fill(row.body, ids),
                               headers=headers_for(persona, world))
    if rule.endswith("-global"):
        assert resp.status_code == 200, resp.text
        assert {i["project_id"] for i in resp.json()[row.items]} <= {world.admin_project}
    else:
        assert resp.status_code == 403, resp.text
