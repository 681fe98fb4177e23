"""Pool -> backend: algorithms, persistence, members, health monitors, PROXY, re-encryption."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from octavia.amphorae.haproxy.backends import ICMP_CHECK_COMMAND
from octavia.amphorae.haproxy.errors import ConfigRenderError
from tests.unit.amphorae.haproxy import factory
from tests.unit.amphorae.haproxy.rendering import backend, frontend, render, sections, server
from tests.unit.amphorae.haproxy.tls_material import install_certs, make_tls_material


def _lb(listener_protocol: str = "HTTP", pool_protocol: str = "HTTP", **pool_fields):
    lb = factory.load_balancer()
    listener = factory.listener(lb, protocol=listener_protocol, port=80)
    pool = factory.pool(lb, protocol=pool_protocol, listener=listener, **pool_fields)
    return lb, listener, pool


@pytest.mark.parametrize(
    ("algorithm", "balance"),
    [
        ("ROUND_ROBIN", "balance roundrobin"),
        ("LEAST_CONNECTIONS", "balance leastconn"),
        ("SOURCE_IP", "balance source"),
        ("SOURCE_IP_PORT", "balance hash src,concat(:,txn.src_port)"),
    ],
)
@pytest.mark.parametrize("protocol", ["HTTP", "TCP"])
def test_algorithms(
    amp_base: Path, haproxy_check: Callable[[str], None], algorithm: str, balance: str, protocol: str
) -> None:
    lb, listener, pool = _lb(listener_protocol=protocol, pool_protocol=protocol, algorithm=algorithm)
    factory.member(pool, "127.0.0.20", 80)
    text = render(lb, amp_base)
    lines = backend(text, pool, listener)
    assert balance in lines
    hashing_port = "tcp-request content set-var(txn.src_port) src_port"
    assert (hashing_port in lines) == (algorithm == "SOURCE_IP_PORT")
    if hashing_port in lines:
        assert lines.index(hashing_port) < lines.index(balance)
    haproxy_check(text)


def test_default_backend_and_names(amp_base: Path) -> None:
    lb, listener, pool = _lb()
    member = factory.member(pool, "127.0.0.20", 8080)
    text = render(lb, amp_base)
    assert f"default_backend {pool.id}:{listener.id}" in frontend(text, listener)
    assert server(text, pool, listener, member).startswith(
        f"server {member.id} ipv4@127.0.0.20:8080 weight 1"
    )


def test_backend_mode_follows_listener(amp_base: Path) -> None:
    lb, listener, pool = _lb(listener_protocol="HTTPS", pool_protocol="HTTPS")
    assert "mode tcp" in backend(render(lb, amp_base), pool, listener)


def test_unused_pool_is_not_rendered(amp_base: Path) -> None:
    lb, _, _ = _lb()
    spare = factory.pool(lb)
    assert not any(spare.id in name for name in sections(render(lb, amp_base)))


def test_members_weight_backup_disabled_ipv6_and_monitor_address(amp_base: Path) -> None:
    lb, listener, pool = _lb()
    drained = factory.member(pool, "127.0.0.20", 80, weight=0)
    heavy = factory.member(pool, "127.0.0.21", 80, weight=7, backup=True)
    off = factory.member(pool, "::1", 8080, enabled=False, monitor_address="::2", monitor_port=8081)
    factory.health_monitor(pool, type="TCP", delay=4, timeout=2, rise_threshold=3, fall_threshold=5)
    text = render(lb, amp_base)
    assert server(text, pool, listener, drained).split()[3:5] == ["weight", "0"]
    assert server(text, pool, listener, heavy).split()[3:5] == ["weight", "7"]
    assert " backup" in server(text, pool, listener, heavy)
    off_line = server(text, pool, listener, off)
    assert off_line.startswith(f"server {off.id} ipv6@::1:8080 ")
    assert "check inter 4s fall 5 rise 3 addr ::2 port 8081" in off_line
    assert off_line.split()[-1] == "disabled"
    assert "timeout check 2s" in backend(text, pool, listener)


def test_disabled_pool_backend_is_disabled(amp_base: Path, haproxy_check: Callable[[str], None]) -> None:
    lb, listener, pool = _lb(enabled=False)
    factory.member(pool, "127.0.0.20", 80)
    text = render(lb, amp_base)
    assert "disabled" in backend(text, pool, listener)
    haproxy_check(text)


def test_session_persistence_source_ip(amp_base: Path) -> None:
    lb, listener, pool = _lb(session_persistence={"type": "SOURCE_IP", "persistence_timeout": 120})
    lines = backend(render(lb, amp_base), pool, listener)
    assert "stick-table type ipv6 size 10k expire 120s" in lines
    assert "stick on src" in lines


def test_session_persistence_http_cookie(amp_base: Path) -> None:
    lb, listener, pool = _lb(session_persistence={"type": "HTTP_COOKIE"})
    member = factory.member(pool, "127.0.0.20", 80)
    text = render(lb, amp_base)
    assert "cookie SRV insert indirect nocache" in backend(text, pool, listener)
    assert f"cookie {member.id}" in server(text, pool, listener, member)


def test_session_persistence_app_cookie(amp_base: Path, haproxy_check: Callable[[str], None]) -> None:
    lb, listener, pool = _lb(session_persistence={"type": "APP_COOKIE", "cookie_name": "JSESSIONID"})
    factory.member(pool, "127.0.0.20", 80)
    text = render(lb, amp_base)
    lines = backend(text, pool, listener)
    assert "stick-table type string len 64 size 10k" in lines
    assert 'stick store-response "res.cook(\\"JSESSIONID\\")"' in lines
    assert 'stick match "req.cook(\\"JSESSIONID\\")"' in lines
    haproxy_check(text)


def test_cookie_persistence_needs_http(amp_base: Path) -> None:
    lb, listener, pool = _lb(
        listener_protocol="TCP", pool_protocol="TCP", session_persistence={"type": "HTTP_COOKIE"}
    )
    member = factory.member(pool, "127.0.0.20", 80)
    text = render(lb, amp_base)
    assert not any("cookie" in line for line in backend(text, pool, listener))
    assert "cookie" not in server(text, pool, listener, member)


def test_app_cookie_name_must_be_a_token(amp_base: Path) -> None:
    lb, _, _ = _lb(session_persistence={"type": "APP_COOKIE", "cookie_name": "a b"})
    with pytest.raises(ConfigRenderError, match="cookie_name"):
        render(lb, amp_base)


@pytest.mark.parametrize(("protocol", "option"), [("PROXY", "send-proxy"), ("PROXYV2", "send-proxy-v2")])
def test_proxy_protocol_pools(amp_base: Path, protocol: str, option: str) -> None:
    lb, listener, pool = _lb(pool_protocol=protocol)
    member = factory.member(pool, "127.0.0.20", 80)
    factory.health_monitor(pool, type="HTTP")
    line = server(render(lb, amp_base), pool, listener, member)
    assert f" {option} " in line and line.endswith("check-send-proxy")


def test_http_health_monitor(amp_base: Path, haproxy_check: Callable[[str], None]) -> None:
    lb, listener, pool = _lb()
    member = factory.member(pool, "127.0.0.20", 80)
    factory.health_monitor(
        pool,
        type="HTTP",
        http_method="HEAD",
        url_path="/health?full=1",
        expected_codes="200-204, 301",
        http_version=1.1,
        domain_name="app.example.com",
        delay=3,
        rise_threshold=2,
        fall_threshold=4,
    )
    text = render(lb, amp_base)
    lines = backend(text, pool, listener)
    assert "option httpchk" in lines
    assert 'http-check send meth HEAD uri "/health?full=1" ver HTTP/1.1 hdr Host "app.example.com"' in lines
    assert "http-check expect status 200-204,301" in lines
    assert "check inter 3s fall 4 rise 2" in server(text, pool, listener, member)
    haproxy_check(text)


def test_https_health_monitor_checks_over_tls(amp_base: Path) -> None:
    lb, listener, pool = _lb(listener_protocol="HTTPS", pool_protocol="HTTPS")
    member = factory.member(pool, "127.0.0.20", 443)
    factory.health_monitor(pool, type="HTTPS")
    text = render(lb, amp_base)
    assert "option httpchk" in backend(text, pool, listener)
    assert server(text, pool, listener, member).endswith("check-ssl verify none")


def test_tls_hello_health_monitor(amp_base: Path) -> None:
    lb, listener, pool = _lb(listener_protocol="HTTPS", pool_protocol="HTTPS")
    factory.member(pool, "127.0.0.20", 443)
    factory.health_monitor(pool, type="TLS-HELLO")
    assert "option ssl-hello-chk" in backend(render(lb, amp_base), pool, listener)


def test_ping_health_monitor_runs_the_icmp_check(
    amp_base: Path, haproxy_check: Callable[[str], None]
) -> None:
    lb, listener, pool = _lb()
    factory.member(pool, "127.0.0.20", 80)
    factory.health_monitor(pool, type="PING")
    text = render(lb, amp_base)
    lines = backend(text, pool, listener)
    assert "option external-check" in lines
    assert f'external-check command "{ICMP_CHECK_COMMAND}"' in lines
    assert {"insecure-fork-wanted", "external-check"} <= set(sections(text)["global"])
    assert Path(ICMP_CHECK_COMMAND).stat().st_mode & 0o111
    haproxy_check(text)


def test_fork_is_only_allowed_with_ping_monitors(amp_base: Path) -> None:
    lb, _, pool = _lb()
    factory.health_monitor(pool, type="TCP")
    assert "insecure-fork-wanted" not in render(lb, amp_base)


def test_disabled_health_monitor_means_no_checks(amp_base: Path) -> None:
    lb, listener, pool = _lb()
    member = factory.member(pool, "127.0.0.20", 80)
    factory.health_monitor(pool, type="HTTP", enabled=False)
    text = render(lb, amp_base)
    assert " check" not in server(text, pool, listener, member)
    assert not any("httpchk" in line or "timeout check" in line for line in backend(text, pool, listener))


@pytest.mark.parametrize("codes", ["200-", "2000", "200;201", "abc"])
def test_bad_expected_codes_refused(amp_base: Path, codes: str) -> None:
    lb, _, pool = _lb()
    factory.health_monitor(pool, type="HTTP", expected_codes=codes)
    with pytest.raises(ConfigRenderError, match="expected_codes"):
        render(lb, amp_base)


def test_pool_tls_reencryption(amp_base: Path, haproxy_check: Callable[[str], None]) -> None:
    material = make_tls_material()
    lb, listener, pool = _lb(
        tls_enabled=True,
        ca_tls_container_ref="pool-ca",
        crl_container_ref="pool-crl",
        tls_container_ref="pool-client",
        tls_ciphers="ECDHE-ECDSA-AES256-GCM-SHA384",
        tls_versions=["TLSv1.3"],
        alpn_protocols=["http/1.1"],
    )
    member = factory.member(pool, "127.0.0.20", 443)
    certs = install_certs(
        amp_base,
        lb,
        {"pool-ca": material.ca_pem, "pool-crl": material.crl_pem, "pool-client": material.server_pem},
    )
    text = render(lb, amp_base, certs=certs)
    line = server(text, pool, listener, member)
    for fragment in (" ssl verify required ca-file ", " crl-file ", " crt ", "no-tlsv12", "alpn http/1.1"):
        assert fragment in line
    haproxy_check(text)


def test_pool_tls_without_ca_does_not_verify(amp_base: Path) -> None:
    lb, listener, pool = _lb(tls_enabled=True)
    member = factory.member(pool, "127.0.0.20", 443)
    assert server(render(lb, amp_base), pool, listener, member).endswith("ssl verify none")


def test_active_standby_shares_stick_tables_with_peers(
    amp_base: Path, haproxy_check: Callable[[str], None]
) -> None:
    lb, listener, pool = _lb(session_persistence={"type": "SOURCE_IP"})
    lb.topology = "ACTIVE_STANDBY"
    factory.member(pool, "127.0.0.20", 80)
    local = factory.amphora(lb, vrrp_ip="127.0.0.31")
    peer = factory.amphora(lb, vrrp_ip="127.0.0.32")
    text = render(lb, amp_base, amphora=local)
    sect = sections(text)
    assert f"localpeer {local.id}" in sect["global"]
    assert sect[f"peers {lb.id}_peers"] == [
        f"peer {local.id} 127.0.0.31:1025",
        f"peer {peer.id} 127.0.0.32:1025",
    ]
    assert f"stick-table type ipv6 size 10k peers {lb.id}_peers" in backend(text, pool, listener)
    haproxy_check(text)
