"""Hostile strings in every user-supplied field: each renders as data or is refused, never as config.

For each field a configuration is rendered with a benign value and with hostile ones; the
hostile rendering must have exactly the same directives (same number of lines, same
leading keywords) and pass `haproxy -c`, or be refused with ConfigRenderError.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from octavia.amphorae.haproxy.errors import ConfigRenderError
from octavia.amphorae.haproxy.quoting import config_word, log_format_word
from octavia.db import models
from tests.unit.amphorae.haproxy import factory
from tests.unit.amphorae.haproxy.rendering import render

HOSTILE = [
    'x"\nfrontend evil\n    bind 127.0.0.1:1',
    "a\r\n    server evil 127.0.0.1:1",
    '"; server evil 127.0.0.1:1 #',
    "${HOME}$HOME\\$PATH",
    "100%[src]%%{+Q}",
    "#comment # more",
    "back\\slash\\",
    "'single' \"double\"",
    "} if ! || or {",
    "-i -m reg --",
    "ünïcødé ☃ 𝄞 \u2028 \u0085",
    "\t\x1b[31m\x7f\x01",
    "A" * 5000 + "\n" + "B" * 5000,
    'q"uo"te\'s',
    "/p?q=%0d%0aSet-Cookie:x",
    "/ünï☃/" + "L" * 6000,
]
# Fields where whitespace or control characters can only be an attack are refused instead.
PRINTABLE_HOSTILE = [value for value in HOSTILE if value.isprintable() and " " not in value]


def _shape(text: str) -> list[tuple[str, ...]]:
    """The skeleton of a configuration: each line's indentation and first two words."""
    shape = []
    for line in text.split("\n"):
        words = line.split(" ")
        indent = len(line) - len(line.lstrip(" "))
        shape.append((str(indent), *[word for word in words if word][:2]))
    return shape


def _uuid(kind: int, index: int) -> str:
    return f"{kind:08d}-0000-0000-0000-{index:012d}"


def _listener() -> tuple[models.LoadBalancer, models.Listener]:
    lb = factory.load_balancer(id=_uuid(1, 0))
    return lb, factory.listener(lb, id=_uuid(2, 0))


def _l7_values(values: list[str]) -> models.LoadBalancer:
    """Every value in every rule type and non-regex compare type."""
    lb, listener = _listener()
    types = [("HOST_NAME", None), ("PATH", None), ("FILE_TYPE", None), ("HEADER", "X-H"), ("COOKIE", "c")]
    for value in values:
        for rule_type, key in types:
            for compare in ("STARTS_WITH", "ENDS_WITH", "CONTAINS", "EQUAL_TO"):
                number = len(listener.l7policies)
                policy = factory.l7policy(listener, "REJECT", id=_uuid(3, number), position=number)
                factory.l7rule(policy, rule_type, compare, value, key=key, id=_uuid(4, number))
    return lb


def _regex_values(values: list[str]) -> models.LoadBalancer:
    """Each value escaped into a valid PCRE that matches the value itself."""
    lb, listener = _listener()
    for index, value in enumerate(values):
        regex = "".join("\\" + char if char in "\\^$.|?*+()[]{}" else char for char in value)
        policy = factory.l7policy(listener, "REJECT", id=_uuid(3, index), position=index)
        factory.l7rule(policy, "HEADER", "REGEX", regex, key="X-H", id=_uuid(4, index))
    return lb


def _hm(field: str, values: list[str]) -> models.LoadBalancer:
    """One pool per value, its health monitor carrying the value in `field`."""
    lb, listener = _listener()
    for index, value in enumerate(values):
        pool = factory.pool(lb, id=_uuid(5, index))
        factory.member(pool, "127.0.0.20", 80, id=_uuid(6, index))
        factory.health_monitor(pool, type="HTTP", http_version=1.1, **{field: value})
        redirect = factory.l7policy(
            listener, "REDIRECT_TO_POOL", redirect_pool=pool, id=_uuid(3, index), position=index
        )
        factory.l7rule(redirect, "PATH", "EQUAL_TO", f"/{index}", id=_uuid(4, index))
    return lb


def _redirect(field: str, values: list[str]) -> models.LoadBalancer:
    lb, listener = _listener()
    action = "REDIRECT_TO_URL" if field == "redirect_url" else "REDIRECT_PREFIX"
    for index, value in enumerate(values):
        policy = factory.l7policy(listener, action, id=_uuid(3, index), position=index, **{field: value})
        factory.l7rule(policy, "PATH", "EQUAL_TO", f"/{index}", id=_uuid(4, index))
    return lb


@pytest.mark.parametrize("build", [_l7_values, _regex_values])
def test_l7_rule_values_stay_data(amp_base: Path, haproxy_check: Callable[[str], None], build) -> None:
    hostile = render(build(HOSTILE), amp_base)
    assert _shape(hostile) == _shape(render(build(["benign"] * len(HOSTILE)), amp_base))
    haproxy_check(hostile)


@pytest.mark.parametrize(
    ("field", "build"),
    [("url_path", _hm), ("domain_name", _hm), ("redirect_url", _redirect), ("redirect_prefix", _redirect)],
)
def test_url_like_fields_stay_data(
    amp_base: Path, haproxy_check: Callable[[str], None], field: str, build
) -> None:
    hostile = render(build(field, PRINTABLE_HOSTILE), amp_base)
    assert _shape(hostile) == _shape(render(build(field, ["/benign"] * len(PRINTABLE_HOSTILE)), amp_base))
    haproxy_check(hostile)


@pytest.mark.parametrize(
    ("field", "build"),
    [("url_path", _hm), ("domain_name", _hm), ("redirect_url", _redirect), ("redirect_prefix", _redirect)],
)
@pytest.mark.parametrize("value", [v for v in HOSTILE if v not in PRINTABLE_HOSTILE])
def test_url_like_fields_refuse_whitespace_and_controls(
    amp_base: Path, field: str, build, value: str
) -> None:
    with pytest.raises(ConfigRenderError, match=field):
        render(build(field, [value]), amp_base)


@pytest.mark.parametrize(
    "value", HOSTILE + ["a b", "a,b", "a)b", 'a"b', "a\\b", ""], ids=range(len(HOSTILE) + 6)
)
def test_header_and_cookie_names_must_be_tokens(amp_base: Path, value: str) -> None:
    for rule_type in ("HEADER", "COOKIE"):
        lb = factory.load_balancer()
        listener = factory.listener(lb)
        factory.l7rule(factory.l7policy(listener, "REJECT"), rule_type, "EQUAL_TO", "v", key=value)
        with pytest.raises(ConfigRenderError, match="token"):
            render(lb, amp_base)
    lb = factory.load_balancer()
    factory.pool(
        lb,
        listener=factory.listener(lb),
        session_persistence={"type": "APP_COOKIE", "cookie_name": value},
    )
    with pytest.raises(ConfigRenderError, match="cookie_name"):
        render(lb, amp_base)


def test_token_names_with_awkward_characters_pass(
    amp_base: Path, haproxy_check: Callable[[str], None]
) -> None:
    name = "x'#$%&*+-.^_`|~y"
    lb = factory.load_balancer()
    listener = factory.listener(lb)
    factory.pool(lb, listener=listener, session_persistence={"type": "APP_COOKIE", "cookie_name": name})
    factory.l7rule(factory.l7policy(listener, "REJECT"), "HEADER", "EQUAL_TO", "v", key=name)
    factory.l7rule(factory.l7policy(listener, "REJECT"), "COOKIE", "EQUAL_TO", "v", key=name)
    haproxy_check(render(lb, amp_base))


@pytest.mark.parametrize(
    "ciphers", ['AES" crt /etc/shadow', "AES\n    bind :1", "AES #x", "AES$HOME", "A" * 5000]
)
def test_hostile_ciphers_refused(amp_base: Path, ciphers: str) -> None:
    lb = factory.load_balancer()
    pool = factory.pool(lb, listener=factory.listener(lb), tls_enabled=True, tls_ciphers=ciphers)
    factory.member(pool, "127.0.0.20", 443)
    with pytest.raises(ConfigRenderError, match="tls_ciphers"):
        render(lb, amp_base)


@pytest.mark.parametrize("codes", ["200\n    bind :1", "200 # x", '"200"', "200,", "2OO"])
def test_hostile_expected_codes_refused(amp_base: Path, codes: str) -> None:
    with pytest.raises(ConfigRenderError, match="expected_codes"):
        render(_hm("expected_codes", [codes]), amp_base)


def test_hostile_member_address_refused(amp_base: Path) -> None:
    lb = factory.load_balancer()
    pool = factory.pool(lb, listener=factory.listener(lb))
    factory.member(pool, "127.0.0.1:80 backup\n    server x 10.0.0.1", 80)
    with pytest.raises(ConfigRenderError, match="not an IP address"):
        render(lb, amp_base)


def test_hostile_ids_refused(amp_base: Path) -> None:
    lb = factory.load_balancer()
    factory.listener(lb, id="x\n    bind :1")
    with pytest.raises(ConfigRenderError, match="identifier"):
        render(lb, amp_base)


def test_nul_cannot_be_represented() -> None:
    with pytest.raises(ConfigRenderError, match="NUL"):
        config_word("a\x00b")


def test_quoting_rules() -> None:
    assert config_word('a"b\\c$d#e') == '"a\\"b\\\\c\\$d\\#e"'
    assert config_word("l1\nl2\r\t\x01\x7f") == '"l1\\nl2\\r\\t\\x01\\x7f"'
    assert config_word("ünï ☃") == '"ünï ☃"'
    assert log_format_word("50%[src]") == '"50%%[src]"'
