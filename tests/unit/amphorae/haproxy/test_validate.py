"""validate_config: HAProxy's own verdict, with its message on refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from octavia.amphorae.haproxy.errors import ConfigRenderError, HaproxyConfigInvalid
from octavia.amphorae.haproxy.render import _guard
from octavia.amphorae.haproxy.validate import validate_config
from tests.unit.amphorae.haproxy import factory
from tests.unit.amphorae.haproxy.rendering import render


def test_valid_rendered_config_passes(amp_base: Path, haproxy_check: Callable[[str], None]) -> None:
    lb = factory.load_balancer()
    factory.member(factory.pool(lb, listener=factory.listener(lb)), "127.0.0.20", 80)
    haproxy_check(render(lb, amp_base))


def test_refusal_carries_haproxy_alerts(haproxy_check: Callable[[str], None]) -> None:
    text = "defaults\n    timeout client 1s\nfrontend f\n    bind 127.0.0.1:80\n    no-such-directive yes\n"
    with pytest.raises(HaproxyConfigInvalid, match="no-such-directive") as caught:
        haproxy_check(text)
    assert "[ALERT]" in caught.value.output


def test_missing_certificate_file_is_a_refusal(amp_base: Path, haproxy_check: Callable[[str], None]) -> None:
    from octavia.amphorae.haproxy.tls import cert_file_name

    lb = factory.load_balancer()
    factory.listener(lb, protocol="TERMINATED_HTTPS", port=443, default_tls_container_ref="ref")
    # the caller promised the file but never wrote it
    text = render(lb, amp_base, certs={cert_file_name("ref"): "pem"})
    with pytest.raises(HaproxyConfigInvalid, match=cert_file_name("ref")):
        haproxy_check(text)


def test_missing_binary_is_a_clear_error() -> None:
    with pytest.raises(HaproxyConfigInvalid, match="not found"):
        validate_config("global\n", haproxy_cmd="/nonexistent/haproxy")


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "\x00", "x\x7f"])
def test_template_finalizer_refuses_control_characters(value: str) -> None:
    """The last line of defence: no template expression may emit a line break."""
    with pytest.raises(ConfigRenderError, match="control characters"):
        _guard(value)
    assert _guard("plain value") == "plain value"
