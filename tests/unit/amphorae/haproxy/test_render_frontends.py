"""Listener -> frontend: binds, modes, limits, timeouts, headers, allowed CIDRs, TLS, global section."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from pathlib import Path

import pytest

from octavia.amphorae.haproxy.capabilities import detect_features
from octavia.amphorae.haproxy.errors import ConfigRenderError
from octavia.common.config import CONF
from tests.unit.amphorae.haproxy import factory
from tests.unit.amphorae.haproxy.rendering import frontend, render, sections
from tests.unit.amphorae.haproxy.tls_material import install_certs, make_tls_material


def _http_lb():
    lb = factory.load_balancer(vip="127.0.0.10")
    listener = factory.listener(lb, protocol="HTTP", port=8080)
    pool = factory.pool(lb, listener=listener)
    factory.member(pool, "127.0.0.20", 80)
    return lb, listener


def test_global_section_master_worker_ready(amp_base: Path) -> None:
    lb, _ = _http_lb()
    text = render(lb, amp_base)
    glob = sections(text)["global"]
    assert f'stats socket "{amp_base}/{lb.id}/haproxy.sock" mode 600 level admin expose-fd listeners' in glob
    assert f"hard-stop-after {CONF.haproxy_amphora.hard_stop_after}s" in glob
    assert "noreuseport" in glob
    assert f'server-state-file "{amp_base}/{lb.id}/servers.state"' in glob
    assert not any(line.startswith(("daemon", "nbproc", "pidfile")) for line in glob)
    assert "load-server-state-from-file global" in sections(text)["defaults"]


def test_http_listener_binds_vip_and_additional_vips_ipv4_and_ipv6(amp_base: Path) -> None:
    lb, listener = _http_lb()
    lb.additional_vips = [{"ip_address": "fd00::0:5", "subnet_id": "x"}, {"ip_address": "127.0.0.10"}]
    lines = frontend(render(lb, amp_base), listener)
    assert [line for line in lines if line.startswith("bind ")] == [
        "bind ipv4@127.0.0.10:8080",
        "bind ipv6@fd00::5:8080",
    ]
    assert "mode http" in lines


def test_idle_close_on_response_follows_the_binary(amp_base: Path) -> None:
    lb, listener = _http_lb()
    supported = detect_features(CONF.haproxy_amphora.haproxy_cmd).idle_close_on_response
    assert ("option idle-close-on-response" in frontend(render(lb, amp_base), listener)) == supported


@pytest.mark.parametrize(
    ("protocol", "mode"),
    [("HTTP", "http"), ("TCP", "tcp"), ("HTTPS", "tcp"), ("PROMETHEUS", "http")],
)
def test_modes(amp_base: Path, protocol: str, mode: str) -> None:
    lb = factory.load_balancer()
    listener = factory.listener(lb, protocol=protocol, port=443)
    lines = frontend(render(lb, amp_base), listener)
    assert f"mode {mode}" in lines
    assert not any("idle-close" in line for line in lines) or mode == "http"


def test_udp_listener_is_not_an_haproxy_frontend(amp_base: Path) -> None:
    lb = factory.load_balancer()
    listener = factory.listener(lb, protocol="UDP", port=53)
    assert f"frontend {listener.id}" not in sections(render(lb, amp_base))


def test_connection_limit_and_default(amp_base: Path) -> None:
    lb = factory.load_balancer()
    limited = factory.listener(lb, port=80, connection_limit=42)
    unlimited = factory.listener(lb, port=81, connection_limit=-1)
    text = render(lb, amp_base)
    assert "maxconn 42" in frontend(text, limited)
    assert f"maxconn {CONF.haproxy_amphora.default_connection_limit}" in frontend(text, unlimited)


def test_global_maxconn_stays_under_the_open_files_limit(amp_base: Path) -> None:
    lb = factory.load_balancer()
    for port in range(80, 85):
        factory.listener(lb, port=port, connection_limit=1_000_000)
    glob = sections(render(lb, amp_base))["global"]
    maxconn = int(next(line for line in glob if line.startswith("maxconn ")).split()[1])
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY:
        # what HAProxy 2.6 asks for: 2 per connection, 3 per thread, 20, one per listening socket
        assert 2 * maxconn + 3 * (os.cpu_count() or 1) + 20 + 6 <= hard
    if hard == 20000:
        assert maxconn <= 9985


def test_global_maxconn_is_the_sum_when_small(amp_base: Path) -> None:
    lb = factory.load_balancer()
    factory.listener(lb, port=80, connection_limit=100)
    factory.listener(lb, port=81, connection_limit=50)
    glob = sections(render(lb, amp_base))["global"]
    assert "maxconn 160" in glob  # 150 + 10 for the stats socket


def test_timeouts_from_fields_and_config_defaults(amp_base: Path) -> None:
    lb = factory.load_balancer()
    listener = factory.listener(
        lb,
        timeout_client_data=1234,
        timeout_member_connect=2345,
        timeout_member_data=3456,
        timeout_tcp_inspect=99,
    )
    pool = factory.pool(lb, listener=listener)
    other = factory.listener(lb, port=81)
    other_pool = factory.pool(lb, listener=other)
    text = render(lb, amp_base)
    sect = sections(text)
    assert "timeout client 1234ms" in frontend(text, listener)
    assert "tcp-request inspect-delay 99ms" in frontend(text, listener)
    assert {"timeout connect 2345ms", "timeout server 3456ms"} <= set(
        sect[f"backend {pool.id}:{listener.id}"]
    )
    defaults = CONF.haproxy_amphora
    assert f"timeout client {defaults.timeout_client_data}ms" in frontend(text, other)
    assert not any(line.startswith("tcp-request inspect-delay") for line in frontend(text, other))
    assert {
        f"timeout connect {defaults.timeout_member_connect}ms",
        f"timeout server {defaults.timeout_member_data}ms",
    } <= set(sect[f"backend {other_pool.id}:{other.id}"])


def test_disabled_listener_is_not_rendered(amp_base: Path) -> None:
    lb, listener = _http_lb()
    listener.enabled = False
    sect = sections(render(lb, amp_base))
    assert not any(name.startswith(("frontend", "backend")) for name in sect)


def test_disabled_load_balancer_serves_nothing(amp_base: Path) -> None:
    lb, _ = _http_lb()
    lb.enabled = False
    sect = sections(render(lb, amp_base))
    assert not any(name.startswith(("frontend", "backend")) for name in sect)
    assert "global" in sect


def test_listener_without_vip_refused(amp_base: Path) -> None:
    lb, _ = _http_lb()
    lb.vip_address = None
    with pytest.raises(ConfigRenderError, match="no VIP"):
        render(lb, amp_base)


def test_duplicate_port_in_one_family_is_refused(amp_base: Path) -> None:
    lb = factory.load_balancer()
    factory.listener(lb, protocol="HTTP", port=80)
    factory.listener(lb, protocol="TCP", port=80)
    with pytest.raises(ConfigRenderError, match="port 80"):
        render(lb, amp_base)


def test_same_port_in_other_family_or_disabled_is_fine(amp_base: Path) -> None:
    lb = factory.load_balancer()
    factory.listener(lb, protocol="HTTP", port=80)
    factory.listener(lb, protocol="UDP", port=80)
    factory.listener(lb, protocol="TCP", port=80, enabled=False)
    render(lb, amp_base)


def test_insert_headers(amp_base: Path) -> None:
    lb = factory.load_balancer()
    listener = factory.listener(
        lb,
        insert_headers={
            "X-Forwarded-For": "true",
            "X-Forwarded-Port": "True",
            "X-Forwarded-Proto": "true",
            "X-Real-IP": "true",
            "X-Client-IP": "false",
            "X-SSL-Client-DN": "true",
        },
    )
    lines = frontend(render(lb, amp_base), listener)
    assert "option forwardfor" in lines
    assert 'http-request set-header X-Forwarded-Port "%[dst_port]"' in lines
    assert "http-request set-header X-Forwarded-Proto http" in lines
    assert 'http-request set-header X-Real-IP "%[src]"' in lines
    assert not any("X-Client-IP" in line or "X-SSL" in line for line in lines)


def test_insert_headers_ignored_in_tcp_mode(amp_base: Path) -> None:
    lb = factory.load_balancer()
    listener = factory.listener(lb, protocol="TCP", insert_headers={"X-Forwarded-For": "true"})
    lines = frontend(render(lb, amp_base), listener)
    assert not any("forwardfor" in line or "set-header" in line for line in lines)


def test_allowed_cidrs_reject_other_sources_and_split_long_lists(amp_base: Path) -> None:
    lb = factory.load_balancer()
    cidrs = [f"10.{i}.0.0/16" for i in range(40)] + ["fd00::/8", "10.0.0.0/16"]
    listener = factory.listener(lb, allowed_cidrs=cidrs)
    lines = frontend(render(lb, amp_base), listener)
    acl_lines = [line for line in lines if line.startswith("acl allowed_cidr src ")]
    assert len(acl_lines) == 2
    listed = [word for line in acl_lines for word in line.split()[3:]]
    assert listed == [f"10.{i}.0.0/16" for i in range(40)] + ["fd00::/8"]
    assert "tcp-request connection reject unless allowed_cidr" in lines


def test_invalid_cidr_refused(amp_base: Path) -> None:
    lb = factory.load_balancer()
    factory.listener(lb, allowed_cidrs=["10.0.0.0/8 127.0.0.1"])
    with pytest.raises(ConfigRenderError, match="allowed_cidrs"):
        render(lb, amp_base)


def test_invalid_vip_refused(amp_base: Path) -> None:
    lb = factory.load_balancer(vip="127.0.0.1:80\n    bind 0.0.0.0")
    factory.listener(lb)
    with pytest.raises(ConfigRenderError, match="not an IP address"):
        render(lb, amp_base)


def test_socket_path_too_long_refused(tmp_path: Path) -> None:
    lb, _ = _http_lb()
    with pytest.raises(ConfigRenderError, match="too long"):
        render(lb, tmp_path / ("d" * 80))


def test_terminated_https_binds_certificates_client_auth_and_tls_options(
    amp_base: Path, haproxy_check: Callable[[str], None]
) -> None:
    material = make_tls_material()
    lb = factory.load_balancer()
    listener = factory.listener(
        lb,
        protocol="TERMINATED_HTTPS",
        port=443,
        default_tls_container_ref="ref-default",
        sni_container_refs=["ref-sni", "ref-default"],
        client_ca_tls_container_ref="ref-ca",
        client_crl_container_ref="ref-crl",
        client_authentication="MANDATORY",
        tls_ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256",
        tls_versions=["TLSv1.2", "TLSv1.3"],
        alpn_protocols=["h2", "http/1.1"],
        hsts_max_age=31536000,
        hsts_include_subdomains=True,
        hsts_preload=True,
        insert_headers={
            "X-Forwarded-Proto": "true",
            "X-SSL-Client-CN": "true",
            "X-SSL-Client-Verify": "true",
        },
    )
    certs = install_certs(
        amp_base,
        lb,
        {
            "ref-default": material.server_pem,
            "ref-sni": make_tls_material("other.example.com").server_pem,
            "ref-ca": material.ca_pem,
            "ref-crl": material.crl_pem,
        },
    )
    text = render(lb, amp_base, certs=certs)
    lines = frontend(text, listener)
    bind = next(line for line in lines if line.startswith("bind "))
    crts = [word for index, word in enumerate(bind.split()) if bind.split()[index - 1] == "crt"]
    assert len(crts) == 2
    assert " ssl " in bind and " verify required " in bind and " ca-file " in bind and " crl-file " in bind
    assert 'ciphers "ECDHE-ECDSA-AES128-GCM-SHA256"' in bind
    assert 'ciphersuites "TLS_AES_128_GCM_SHA256"' in bind
    assert bind.endswith("no-sslv3 no-tlsv10 no-tlsv11 alpn h2,http/1.1")
    assert (
        'http-response set-header Strict-Transport-Security "max-age=31536000; includeSubDomains; preload"'
        in lines
    )
    assert "http-request set-header X-Forwarded-Proto https" in lines
    assert 'http-request set-header X-SSL-Client-CN "%[ssl_c_s_dn(cn)]"' in lines
    assert "tune.ssl.default-dh-param 2048" in sections(text)["global"]
    haproxy_check(text)


def test_terminated_https_default_certificate_comes_first(amp_base: Path) -> None:
    from octavia.amphorae.haproxy.tls import cert_file_name

    lb = factory.load_balancer()
    listener = factory.listener(
        lb, protocol="TERMINATED_HTTPS", port=443, default_tls_container_ref="b", sni_container_refs=["a"]
    )
    text = render(lb, amp_base, certs={cert_file_name("a"): "", cert_file_name("b"): ""})
    bind = next(line for line in frontend(text, listener) if line.startswith("bind "))
    words = bind.split()
    assert [words[i + 1] for i, word in enumerate(words) if word == "crt"] == [
        f'"{amp_base}/{lb.id}/certs/{cert_file_name("b")}"',
        f'"{amp_base}/{lb.id}/certs/{cert_file_name("a")}"',
    ]


def test_missing_certificate_file_refused(amp_base: Path) -> None:
    lb = factory.load_balancer()
    factory.listener(lb, protocol="TERMINATED_HTTPS", port=443, default_tls_container_ref="ref-x")
    with pytest.raises(ConfigRenderError, match="ref-x"):
        render(lb, amp_base, certs={})


def test_bad_ciphers_refused(amp_base: Path) -> None:
    from octavia.amphorae.haproxy.tls import cert_file_name

    lb = factory.load_balancer()
    factory.listener(
        lb,
        protocol="TERMINATED_HTTPS",
        port=443,
        default_tls_container_ref="r",
        tls_ciphers='AES" crt /etc/x',
    )
    with pytest.raises(ConfigRenderError, match="tls_ciphers"):
        render(lb, amp_base, certs={cert_file_name("r"): ""})


def test_prometheus_listener_and_internal_endpoint(amp_base: Path) -> None:
    lb = factory.load_balancer()
    listener = factory.listener(lb, protocol="PROMETHEUS", port=9100)
    available = detect_features(CONF.haproxy_amphora.haproxy_cmd).prometheus_exporter
    lines = frontend(render(lb, amp_base), listener)
    assert ("http-request use-service prometheus-exporter if { path /metrics }" in lines) == available
    if available:
        internal = sections(render(lb, amp_base, prometheus_port=9101))[
            "frontend prometheus-exporter-internal"
        ]
        assert "bind ipv4@127.0.0.1:9101" in internal
    else:
        with pytest.raises(ConfigRenderError, match="prometheus"):
            render(lb, amp_base, prometheus_port=9101)


def test_names_and_descriptions_are_never_rendered(amp_base: Path) -> None:
    lb, listener = _http_lb()
    lb.name = lb.description = "LBNAME-MARK"
    listener.name = listener.description = "LISTENER-MARK"
    lb.pools[0].name = "POOL-MARK"
    lb.pools[0].members[0].name = "MEMBER-MARK"
    text = render(lb, amp_base)
    assert "MARK" not in text
