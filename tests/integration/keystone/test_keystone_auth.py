"""auth_strategy = keystone against a real Keystone: 401s, real tokens, roles, scopes.

Slow (Keystone is installed on first use and bootstrapped per module; tokens cost a
password check each), so marked `slow`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.keystone.conftest import Keystone, Octavia

pytestmark = pytest.mark.slow

LBS = "/v2/lbaas/loadbalancers"
FORBIDDEN = {"faultcode": "Client", "faultstring": "Policy does not allow this request to be performed.",
             "debuginfo": None}
# user -> (project, role); Keystone's role implication adds member => reader to tokens.
GRANTS = {
    "octavia": ("service", "service"),
    "lb-member": ("owner", "member"),
    "lb-reader": ("owner", "reader"),
    "lb-other": ("other", "member"),
    "lb-custom": ("owner", "custom-role"),
    "lb-legacy": ("owner", "load-balancer_member"),
}


@pytest.fixture(scope="module")
def cloud(keystone: Keystone) -> Keystone:
    keystone.populate(GRANTS, extra_roles=["custom-role", "load-balancer_member"])
    return keystone


@pytest.fixture(scope="module")
def tokens(cloud: Keystone) -> dict[str, str]:
    out = {user: cloud.token(user, project=project) for user, (project, _) in GRANTS.items()
           if user != "octavia"}
    out["admin"] = cloud.token("admin", project="admin")
    out["system-admin"] = cloud.token("admin", project=None, system=True)
    return out


@pytest.fixture(scope="module")
def api(octavia_api: Octavia, cloud: Keystone) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=octavia_api.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def owner_lb(api: httpx.Client, tokens: dict[str, str], cloud: Keystone) -> dict[str, str]:
    resp = api.post(LBS, headers={"X-Auth-Token": tokens["lb-member"]},
                    json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}})
    assert resp.status_code == 201, resp.text
    lb: dict[str, str] = resp.json()["loadbalancer"]
    return lb


def _as(token: str, **extra: str) -> dict[str, str]:
    return {"X-Auth-Token": token, **extra}


def test_no_token_is_keystones_401(api: httpx.Client, cloud: Keystone) -> None:
    resp = api.get(LBS)
    assert resp.status_code == 401
    assert resp.json() == {"error": {"code": 401, "title": "Unauthorized",
                                     "message": "The request you have made requires authentication."}}
    assert resp.headers["WWW-Authenticate"] == f"Keystone uri=\"{cloud.url}\""
    assert resp.headers["x-openstack-request-id"].startswith("req-")


def test_bad_token_is_401(api: httpx.Client, cloud: Keystone) -> None:
    resp = api.get(LBS, headers={"X-Auth-Token": "gAAAAABnot-a-real-token"})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 401
    assert resp.headers["WWW-Authenticate"].startswith("Keystone uri=")


def test_discovery_and_healthcheck_need_no_token(api: httpx.Client) -> None:
    assert api.get("/").status_code == 200
    assert api.get("/healthcheck").status_code == 200


def test_member_creates_in_its_keystone_project(owner_lb: dict[str, str], cloud: Keystone,
                                                api: httpx.Client, tokens: dict[str, str]) -> None:
    assert owner_lb["project_id"] == cloud.projects["owner"]
    shown = api.get(f"{LBS}/{owner_lb['id']}", headers=_as(tokens["lb-member"]))
    assert shown.status_code == 200 and shown.json()["loadbalancer"]["id"] == owner_lb["id"]


def test_reader_reads_but_cannot_write(api: httpx.Client, tokens: dict[str, str],
                                       owner_lb: dict[str, str]) -> None:
    reader = _as(tokens["lb-reader"])
    listed = api.get(LBS, headers=reader)
    assert listed.status_code == 200
    assert [lb["id"] for lb in listed.json()["loadbalancers"]] == [owner_lb["id"]]
    assert api.get(f"{LBS}/{owner_lb['id']}", headers=reader).status_code == 200
    resp = api.put(f"{LBS}/{owner_lb['id']}", headers=reader, json={"loadbalancer": {"name": "x"}})
    assert resp.status_code == 403 and resp.json() == FORBIDDEN


def test_other_project_is_403_on_show_and_filtered_on_list(api: httpx.Client, tokens: dict[str, str],
                                                           owner_lb: dict[str, str]) -> None:
    other = _as(tokens["lb-other"])
    resp = api.get(f"{LBS}/{owner_lb['id']}", headers=other)
    assert resp.status_code == 403 and resp.json() == FORBIDDEN
    listed = api.get(LBS, headers=other)
    assert listed.status_code == 200 and listed.json()["loadbalancers"] == []


def test_admin_sees_every_project_and_the_admin_api(api: httpx.Client, tokens: dict[str, str],
                                                    owner_lb: dict[str, str]) -> None:
    admin = _as(tokens["admin"])
    listed = api.get(LBS, headers=admin).json()["loadbalancers"]
    assert owner_lb["id"] in {lb["id"] for lb in listed}
    assert api.get("/v2/octavia/amphorae", headers=admin).status_code == 200
    assert api.get("/v2/octavia/amphorae", headers=_as(tokens["lb-member"])).status_code == 403


@pytest.mark.parametrize("user", ["lb-custom", "lb-legacy"])
def test_roles_outside_the_defaults_get_nothing(api: httpx.Client, tokens: dict[str, str], user: str) -> None:
    """A custom role, or a legacy `load-balancer_*` role while new defaults are enforced."""
    for path in (LBS, "/v2/lbaas/providers", "/v2/lbaas/flavors"):
        resp = api.get(path, headers=_as(tokens[user]))
        assert resp.status_code == 403 and resp.json() == FORBIDDEN, path


def test_identity_headers_from_the_client_are_ignored(api: httpx.Client, tokens: dict[str, str],
                                                      cloud: Keystone, owner_lb: dict[str, str]) -> None:
    """auth_token strips X-Roles / X-Project-Id a client sends before injecting the token's."""
    forged = _as(tokens["lb-other"], **{"X-Roles": "admin", "X-Project-Id": cloud.projects["owner"],
                                        "X-Is-Admin-Project": "True"})
    assert api.get("/v2/octavia/amphorae", headers=forged).status_code == 403
    assert api.get(f"{LBS}/{owner_lb['id']}", headers=forged).status_code == 403


def test_system_scoped_token_is_refused(api: httpx.Client, tokens: dict[str, str]) -> None:
    for path in (LBS, "/v2/octavia/amphorae", "/v2/lbaas/providers"):
        resp = api.get(path, headers=_as(tokens["system-admin"]))
        assert resp.status_code == 403 and resp.json() == FORBIDDEN, path
