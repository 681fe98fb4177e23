"""L7 policies and rules: position order, actions, every rule type and compare type, invert."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from octavia.amphorae.haproxy.errors import ConfigRenderError
from tests.unit.amphorae.haproxy import factory
from tests.unit.amphorae.haproxy.rendering import frontend, render, sections


def _lb(protocol: str = "HTTP"):
    lb = factory.load_balancer()
    listener = factory.listener(lb, protocol=protocol, port=80)
    factory.pool(lb, listener=listener)
    return lb, listener


def _actions(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("http-request ") and " if " in line]


def test_policies_render_in_position_order_whatever_the_action(
    amp_base: Path, haproxy_check: Callable[[str], None]
) -> None:
    lb, listener = _lb()
    target = factory.pool(lb)
    reject = factory.l7policy(listener, "REJECT", position=3)
    factory.l7rule(reject, "PATH", "EQUAL_TO", "/reject")
    to_pool = factory.l7policy(listener, "REDIRECT_TO_POOL", position=1, redirect_pool=target)
    factory.l7rule(to_pool, "PATH", "STARTS_WITH", "/api")
    to_url = factory.l7policy(
        listener, "REDIRECT_TO_URL", position=2, redirect_url="https://example.com/x", redirect_http_code=308
    )
    factory.l7rule(to_url, "HOST_NAME", "EQUAL_TO", "old.example.com")
    prefix = factory.l7policy(
        listener, "REDIRECT_PREFIX", position=4, redirect_prefix="https://new.example.com"
    )
    factory.l7rule(prefix, "PATH", "CONTAINS", "legacy")
    text = render(lb, amp_base)
    lines = frontend(text, listener)
    actions = _actions(lines)
    assert [action.split(" if ")[0] for action in actions] == [
        "http-request set-var(txn.l7_pool) int(1)",
        'http-request redirect location "https://example.com/x" code 308',
        "http-request deny deny_status 403",
        'http-request redirect prefix "https://new.example.com" code 302',
    ]
    # once a pool is chosen, later policies do not apply
    assert all(action.endswith(" !l7_pool_chosen") for action in actions)
    assert "acl l7_pool_chosen var(txn.l7_pool) -m found" in lines
    assert f"use_backend {target.id}:{listener.id} if {{ var(txn.l7_pool) -m int 1 }}" in lines
    assert f"backend {target.id}:{listener.id}" in sections(text)
    haproxy_check(text)


def test_rules_are_anded_and_inverted(amp_base: Path) -> None:
    lb, listener = _lb()
    policy = factory.l7policy(listener, "REJECT")
    first = factory.l7rule(policy, "PATH", "STARTS_WITH", "/a")
    second = factory.l7rule(policy, "HEADER", "EQUAL_TO", "yes", key="X-Test", invert=True)
    (action,) = _actions(frontend(render(lb, amp_base), listener))
    assert action == f"http-request deny deny_status 403 if rule_{first.id} !rule_{second.id}"


def test_disabled_policies_rules_and_empty_policies_are_skipped(amp_base: Path) -> None:
    lb, listener = _lb()
    disabled = factory.l7policy(listener, "REJECT", enabled=False)
    factory.l7rule(disabled, "PATH", "EQUAL_TO", "/x")
    factory.l7policy(listener, "REJECT")
    only_disabled_rules = factory.l7policy(listener, "REJECT")
    factory.l7rule(only_disabled_rules, "PATH", "EQUAL_TO", "/y", enabled=False)
    partly = factory.l7policy(listener, "REJECT")
    kept = factory.l7rule(partly, "PATH", "EQUAL_TO", "/z")
    dropped = factory.l7rule(partly, "PATH", "EQUAL_TO", "/w", enabled=False)
    lines = frontend(render(lb, amp_base), listener)
    assert _actions(lines) == [f"http-request deny deny_status 403 if rule_{kept.id}"]
    assert not any(dropped.id in line for line in lines)


def test_redirect_to_pool_without_pool_is_skipped(amp_base: Path) -> None:
    lb, listener = _lb()
    policy = factory.l7policy(listener, "REDIRECT_TO_POOL", redirect_pool=None)
    factory.l7rule(policy, "PATH", "EQUAL_TO", "/x")
    assert _actions(frontend(render(lb, amp_base), listener)) == []


@pytest.mark.parametrize(
    ("compare", "method"),
    [
        ("REGEX", "reg"),
        ("STARTS_WITH", "beg"),
        ("ENDS_WITH", "end"),
        ("CONTAINS", "sub"),
        ("EQUAL_TO", "str"),
    ],
)
@pytest.mark.parametrize(
    ("rule_type", "key", "fetch"),
    [
        ("HOST_NAME", None, "req.hdr(host) -i"),
        ("PATH", None, "path"),
        ("HEADER", "X-Version", '"req.hdr(\\"X-Version\\")"'),
        ("COOKIE", "session", '"req.cook(\\"session\\")"'),
        ("SSL_DN_FIELD", "CN", "ssl_c_s_dn(CN)"),
        ("FILE_TYPE", None, '"path,regsub(^.*/,),regsub(^[^.]*\\$,),regsub(^.*[.],)"'),
    ],
)
def test_rule_types_and_compare_types(
    amp_base: Path, rule_type: str, key: str | None, fetch: str, compare: str, method: str
) -> None:
    lb, listener = _lb()
    policy = factory.l7policy(listener, "REJECT")
    rule = factory.l7rule(policy, rule_type, compare, "v1", key=key)
    assert f'acl rule_{rule.id} {fetch} -m {method} -- "v1"' in frontend(render(lb, amp_base), listener)


def test_ssl_rules(amp_base: Path) -> None:
    lb, listener = _lb()
    policy = factory.l7policy(listener, "REJECT")
    has_cert = factory.l7rule(policy, "SSL_CONN_HAS_CERT", "EQUAL_TO", "tRUe", invert=True)
    verify = factory.l7rule(policy, "SSL_VERIFY_RESULT", "EQUAL_TO", "10")
    lines = frontend(render(lb, amp_base), listener)
    assert f"acl rule_{has_cert.id} ssl_c_used" in lines
    assert f"acl rule_{verify.id} ssl_c_verify -m int -- 10" in lines


def test_ssl_verify_result_must_be_a_number(amp_base: Path) -> None:
    lb, listener = _lb()
    factory.l7rule(factory.l7policy(listener, "REJECT"), "SSL_VERIFY_RESULT", "EQUAL_TO", "1 || 1")
    with pytest.raises(ConfigRenderError, match="integer"):
        render(lb, amp_base)


def test_every_rule_type_passes_haproxy_check(amp_base: Path, haproxy_check: Callable[[str], None]) -> None:
    lb, listener = _lb()
    for rule_type, key in [
        ("HOST_NAME", None),
        ("PATH", None),
        ("FILE_TYPE", None),
        ("HEADER", "X-A"),
        ("COOKIE", "c"),
        ("SSL_DN_FIELD", "OU"),
    ]:
        for compare in ("REGEX", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "EQUAL_TO"):
            policy = factory.l7policy(listener, "REJECT")
            factory.l7rule(policy, rule_type, compare, "^a[b]c$" if compare == "REGEX" else "abc", key=key)
            factory.l7rule(policy, "PATH", "EQUAL_TO", "/x", invert=True)
    factory.l7rule(factory.l7policy(listener, "REJECT"), "SSL_CONN_HAS_CERT", "EQUAL_TO", "True")
    factory.l7rule(factory.l7policy(listener, "REJECT"), "SSL_VERIFY_RESULT", "EQUAL_TO", "0")
    haproxy_check(render(lb, amp_base))


def test_l7_policies_ignored_on_tcp_listeners(amp_base: Path) -> None:
    lb, listener = _lb("TCP")
    factory.l7rule(factory.l7policy(listener, "REJECT"), "PATH", "EQUAL_TO", "/x")
    lines = frontend(render(lb, amp_base), listener)
    assert not any(line.startswith(("acl ", "http-request")) for line in lines)


@pytest.mark.parametrize("code", [None, 301, 302, 303, 307, 308])
def test_redirect_codes(amp_base: Path, code: int | None) -> None:
    lb, listener = _lb()
    policy = factory.l7policy(listener, "REDIRECT_TO_URL", redirect_url="http://x/", redirect_http_code=code)
    factory.l7rule(policy, "PATH", "EQUAL_TO", "/")
    (action,) = _actions(frontend(render(lb, amp_base), listener))
    assert f" code {code or 302} if " in action


def test_bad_redirect_code_refused(amp_base: Path) -> None:
    lb, listener = _lb()
    policy = factory.l7policy(listener, "REDIRECT_TO_URL", redirect_url="http://x/", redirect_http_code=200)
    factory.l7rule(policy, "PATH", "EQUAL_TO", "/")
    with pytest.raises(ConfigRenderError, match="redirect_http_code"):
        render(lb, amp_base)
