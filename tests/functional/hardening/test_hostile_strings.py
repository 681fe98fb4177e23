"""Hostile text in every free-text field: refused with 400, or stored and rendered harmlessly.

For each field, every hostile value is sent in a PUT of a complete load balancer tree
(HTTP listener, pool with a member and an HTTP health monitor, TLS re-encrypting pool,
L7 policies and rules). A 400 is fine. An accepted value must read back unchanged,
and the HAProxy configuration rendered from the stored objects must pass `haproxy -c`
with exactly the directive lines of a rendering with a benign value: no value may add,
remove or split a directive. keepalived's configuration, for an ACTIVE_STANDBY pair,
must be the same as with benign values (no user text reaches it). Marked slow: it runs
`haproxy -c` a few hundred times; the NUL and range checks that differ by database are in
test_unstorable_input.py, which runs on both.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from octavia.amphorae.haproxy.render import render_haproxy_config
from octavia.amphorae.haproxy.validate import validate_config
from octavia.amphorae.keepalived.render import VipNetwork, render_keepalived_config
from octavia.db import models
from octavia.db.api import session_scope

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs the haproxy binary"),
]

AMP_BASE = "/var/lib/octavia/amphorae"  # only named in the file: `haproxy -c` opens no socket
VIP = "198.51.100.50"
CIPHER = "ECDHE-RSA-AES128-GCM-SHA256"
AMPHORA_ID = "6f0e7a55-3b0a-4c47-9d59-2c1a6f6d8e01"  # inside the noop network driver's subnet
HOSTILE: dict[str, str] = {
    "newline": "x\n    bind :1\n",
    "crlf": "x\r\nserver evil 192.0.2.1:80",
    "quotes": "a\"b'c\"",
    "percent": "%[src]%%{+Q}o %",
    "hash": "x # comment",
    "dollar": "$HOME${PATH}",
    "backslash": "a\\b\\",
    "braces": "}{ global {",
    "space": "a b\tc",
    # Without whitespace, for the fields that refuse it:
    "fetch": "%[src]",
    "logformat": "%{+Q}o%%",
    "inline_hash": "a#b",
    "inline_quote": 'a"b',
    "escapes": "a\\nb\\x41",
    "acl_syntax": "a)b,c(d",
    "unicode_word": "ünï✓\u202e",
    "unicode": "ünï©ødé ✓ \u202e \U0001f680",
    "nul": "a\x00b",
    "max": "y" * 255,
    "long": "z" * 5000,
}


@dataclass(frozen=True)
class Field:
    """Where a value goes: the object kind, the PUT body for a value, and how to read it back."""

    kind: str
    body: Callable[[str], dict[str, Any]]
    read: Callable[[dict[str, Any]], Any]
    shape: Callable[[str], str] = lambda value: value
    benign: str = "benign"
    free: bool = False  # never rendered: every value of at most 255 characters without NUL is kept


def _plain(name: str) -> tuple[Callable[[str], dict[str, Any]], Callable[[dict[str, Any]], Any]]:
    return (lambda v: {name: v}), (lambda obj: obj[name])


def _field(kind: str, name: str, shape: Callable[[str], str] = lambda v: v, benign: str = "benign") -> Field:
    body, read = _plain(name)
    return Field(kind, body, read, shape, benign)


def _tags(kind: str) -> Field:
    return Field(kind, lambda v: {"tags": [v]}, lambda obj: obj["tags"][0], free=True)


def _text(kind: str, name: str) -> Field:
    body, read = _plain(name)
    return Field(kind, body, read, free=True)


FIELDS: dict[str, Field] = {
    "lb.name": _text("lb", "name"), "lb.description": _text("lb", "description"), "lb.tags": _tags("lb"),
    "listener.name": _text("listener", "name"), "listener.description": _text("listener", "description"),
    "listener.tags": _tags("listener"),
    "pool.name": _text("pool", "name"), "pool.description": _text("pool", "description"),
    "pool.tags": _tags("pool"),
    "pool.cookie_name": Field(
        "pool", lambda v: {"session_persistence": {"type": "APP_COOKIE", "cookie_name": v}},
        lambda obj: obj["session_persistence"]["cookie_name"]),
    "tls_pool.tls_ciphers": _field("tls_pool", "tls_ciphers", benign=CIPHER),
    "tls_pool.tls_ciphers_after_valid": _field("tls_pool", "tls_ciphers", lambda v: f"{CIPHER}:{v}",
                                               benign=CIPHER),
    "member.name": _text("member", "name"), "member.tags": _tags("member"),
    "hm.name": _text("hm", "name"), "hm.tags": _tags("hm"),
    "hm.url_path": _field("hm", "url_path", lambda v: "/" + v),
    "hm.expected_codes": _field("hm", "expected_codes", lambda v: "200" + v, benign="200"),
    "hm.domain_name": _field("hm", "domain_name"),
    "policy.name": _text("url_policy", "name"), "policy.description": _text("url_policy", "description"),
    "policy.tags": _tags("url_policy"),
    "policy.redirect_url": _field("url_policy", "redirect_url", lambda v: "http://www.example.com/" + v),
    "policy.redirect_prefix": _field("prefix_policy", "redirect_prefix",
                                     lambda v: "https://example.com/" + v),
    "rule.value": _field("path_rule", "value"), "rule.tags": _tags("path_rule"),
    "header_rule.key": _field("header_rule", "key"), "header_rule.value": _field("header_rule", "value"),
    "cookie_rule.key": _field("cookie_rule", "key"), "cookie_rule.value": _field("cookie_rule", "value"),
}


class Tree:
    """One ACTIVE load balancer with an object of every kind the fields above write to."""

    def __init__(self, api: Any) -> None:
        self.api = api
        lb = api.create_lb(vip_address=VIP)
        self.lb_id = lb["id"]
        listener = self.make("/v2/lbaas/listeners", "listener",
                             loadbalancer_id=self.lb_id, protocol="HTTP", protocol_port=80)
        pool = self.make("/v2/lbaas/pools", "pool", listener_id=listener["id"], protocol="HTTP",
                         lb_algorithm="ROUND_ROBIN")
        tls_pool = self.make("/v2/lbaas/pools", "pool", loadbalancer_id=self.lb_id, protocol="HTTP",
                             lb_algorithm="ROUND_ROBIN", tls_enabled=True)
        member = self.make(f"/v2/lbaas/pools/{pool['id']}/members", "member",
                           address="192.0.2.10", protocol_port=8080)
        self.make(f"/v2/lbaas/pools/{tls_pool['id']}/members", "member", address="192.0.2.11",
                  protocol_port=443)
        hm = self.make("/v2/lbaas/healthmonitors", "healthmonitor", pool_id=pool["id"], type="HTTP",
                       delay=5, timeout=3, max_retries=3, http_version=1.1, domain_name="example.com")
        url_policy = self.make("/v2/lbaas/l7policies", "l7policy", listener_id=listener["id"],
                               action="REDIRECT_TO_URL", redirect_url="http://www.example.com/")
        prefix_policy = self.make("/v2/lbaas/l7policies", "l7policy", listener_id=listener["id"],
                                  action="REDIRECT_PREFIX", redirect_prefix="https://example.com")
        self.make(f"/v2/lbaas/l7policies/{prefix_policy['id']}/rules", "rule", type="HOST_NAME",
                  compare_type="EQUAL_TO", value="old.example.com")  # a policy without rules is not rendered
        pool_policy = self.make("/v2/lbaas/l7policies", "l7policy", listener_id=listener["id"],
                                action="REDIRECT_TO_POOL", redirect_pool_id=tls_pool["id"])
        rules = f"/v2/lbaas/l7policies/{pool_policy['id']}/rules"
        path_rule = self.make(rules, "rule", type="PATH", compare_type="STARTS_WITH", value="/api")
        header_rule = self.make(rules, "rule", type="HEADER", compare_type="EQUAL_TO", key="X-Env",
                                value="prod")
        cookie_rule = self.make(f"/v2/lbaas/l7policies/{url_policy['id']}/rules", "rule", type="COOKIE",
                                compare_type="EQUAL_TO", key="session", value="abc")
        self.paths = {
            "lb": (f"/v2/lbaas/loadbalancers/{self.lb_id}", "loadbalancer"),
            "listener": (f"/v2/lbaas/listeners/{listener['id']}", "listener"),
            "pool": (f"/v2/lbaas/pools/{pool['id']}", "pool"),
            "tls_pool": (f"/v2/lbaas/pools/{tls_pool['id']}", "pool"),
            "member": (f"/v2/lbaas/pools/{pool['id']}/members/{member['id']}", "member"),
            "hm": (f"/v2/lbaas/healthmonitors/{hm['id']}", "healthmonitor"),
            "url_policy": (f"/v2/lbaas/l7policies/{url_policy['id']}", "l7policy"),
            "prefix_policy": (f"/v2/lbaas/l7policies/{prefix_policy['id']}", "l7policy"),
            "path_rule": (f"{rules}/{path_rule['id']}", "rule"),
            "header_rule": (f"{rules}/{header_rule['id']}", "rule"),
            "cookie_rule": (f"/v2/lbaas/l7policies/{url_policy['id']}/rules/{cookie_rule['id']}", "rule"),
        }

    def make(self, path: str, envelope: str, **body: Any) -> dict[str, Any]:
        resp = self.api.post(path, json={envelope: body})
        assert resp.status_code == 201, resp.text
        self.api.wait_lb(self.lb_id)
        return dict(resp.json()[envelope])

    def put(self, field: Field, value: str) -> Any:
        path, key = self.paths[field.kind]
        resp = self.api.put(path, json={key: field.body(value)})
        if resp.status_code == 200:
            self.api.wait_lb(self.lb_id)
        return resp

    def read(self, field: Field) -> Any:
        path, key = self.paths[field.kind]
        return field.read(self.api.get(path).json()[key])

    def haproxy_config(self) -> str:
        with session_scope() as session:
            lb = session.get(models.LoadBalancer, self.lb_id)
            assert lb is not None
            return render_haproxy_config(lb, None, amp_base=AMP_BASE)

    def keepalived_config(self) -> str:
        with session_scope() as session:
            lb = session.get(models.LoadBalancer, self.lb_id)
            assert lb is not None
            amphora = models.Amphora(id=AMPHORA_ID, vrrp_ip="198.51.100.2", vrrp_interface="eth1",
                                     vrrp_id=1, vrrp_priority=100, status="ALLOCATED")
            return render_keepalived_config(lb, amphora, [VipNetwork(VIP, "198.51.100.0/24")],
                                            check_script="/var/lib/octavia/check.sh")


def directives(config: str) -> list[str]:
    """The keyword of every configuration line, in order: what a value must never change."""
    return [line.split()[0] for line in config.splitlines() if line.strip()]


KINDS = sorted({field.kind for field in FIELDS.values()})


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_values_are_refused_or_harmless(api: Any, kind: str) -> None:
    """Every field of one kind of object, on one tree (building a tree costs a dozen creates)."""
    tree = Tree(api)
    for name in sorted(n for n, f in FIELDS.items() if f.kind == kind):
        check_field(tree, name, FIELDS[name])


def check_field(tree: Tree, name: str, field: Field) -> None:
    benign = field.shape(field.benign) if field.benign == "benign" else field.benign
    assert tree.put(field, benign).status_code == 200, name
    baseline = tree.haproxy_config()
    validate_config(baseline)
    keepalived = tree.keepalived_config()
    accepted: list[str] = []
    checked = 1
    for label, raw in HOSTILE.items():
        value = field.shape(raw)
        resp = tree.put(field, value)
        if resp.status_code == 400:
            continue
        assert resp.status_code == 200, (name, label, resp.text)
        assert tree.read(field) == value, (name, label)
        accepted.append(label)
        config = tree.haproxy_config()
        if config != baseline:
            validate_config(config)
            checked += 1
            assert directives(config) == directives(baseline), (name, label)
        assert tree.keepalived_config() == keepalived, (name, label)
    print(f"{name}: {len(accepted)} of {len(HOSTILE)} accepted, {checked} configs checked by haproxy -c")
    assert "nul" not in accepted and "long" not in accepted, name
    if field.free:
        assert set(accepted) == set(HOSTILE) - {"nul", "long"}, name
    elif accepted:
        assert checked > 1, f"{name} never reached the configuration: the test would prove nothing"
