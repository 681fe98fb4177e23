"""The bind probe reads every IP bind line HAProxy would open and probes only those a
new configuration adds (the running HAProxy holds the others)."""

from __future__ import annotations

from octavia.amphorae.agent import bind_probe
from octavia.amphorae.haproxy.render import render_haproxy_config
from tests.unit.amphorae.haproxy import factory

CONFIG = b"""global
    stats socket /run/x/haproxy.sock mode 600 level admin expose-fd listeners
frontend a
    bind ipv4@198.51.100.7:80
    bind ipv6@2001:db8::7:443 ssl crt /x/certs/a.pem
    bind [::1]:8443
    bind *:9000
    bind unix@/tmp/x.sock
    bind ipv4@127.0.0.1:9102
    # bind ipv4@203.0.113.1:1 (a comment)
    http-request return status 200 if { path /bind 192.0.2.1:80 }
"""


def test_bind_lines_give_addresses_and_ports() -> None:
    assert bind_probe.bind_addresses(CONFIG) == {
        ("198.51.100.7", 80), ("2001:db8::7", 443), ("::1", 8443), ("0.0.0.0", 9000), ("127.0.0.1", 9102),
    }


def test_rendered_configuration_binds_are_found() -> None:
    lb = factory.load_balancer(vip="198.51.100.9")
    factory.listener(lb, protocol="HTTP", port=8080)
    factory.listener(lb, protocol="TCP", port=2222)
    text = render_haproxy_config(lb, factory.amphora(lb), amp_base="/run/o/a").encode()
    assert {("198.51.100.9", 8080), ("198.51.100.9", 2222)} <= bind_probe.bind_addresses(text)


def test_only_added_binds_are_probed() -> None:
    current = b"frontend a\n    bind ipv4@198.51.100.7:80\n"
    assert bind_probe.unbindable(current, current) == []
