"""Feature detection against the installed HAProxy."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from octavia.amphorae.haproxy.capabilities import NO_FEATURES, detect_features
from octavia.amphorae.haproxy.errors import HaproxyConfigInvalid
from octavia.common.config import CONF
from tests.unit.amphorae.haproxy import factory
from tests.unit.amphorae.haproxy.rendering import render


def test_missing_binary_means_no_optional_features() -> None:
    assert detect_features("/nonexistent/haproxy") == NO_FEATURES


def test_idle_close_detection_agrees_with_haproxy(
    amp_base: Path, haproxy_check: Callable[[str], None]
) -> None:
    """Detected exactly when HAProxy accepts the option in a real rendered frontend."""
    lb = factory.load_balancer()
    listener = factory.listener(lb)
    text = render(lb, amp_base)
    marker = f"frontend {listener.id}\n"
    forced = text.replace(marker, marker + "    option idle-close-on-response\n")
    try:
        haproxy_check(forced)
        accepted = True
    except HaproxyConfigInvalid:
        accepted = False
    assert detect_features(CONF.haproxy_amphora.haproxy_cmd).idle_close_on_response == accepted


def test_version_and_exporter_read_from_vv() -> None:
    if shutil.which(CONF.haproxy_amphora.haproxy_cmd) is None:
        pytest.skip("haproxy is not installed")
    features = detect_features(CONF.haproxy_amphora.haproxy_cmd)
    assert len(features.version) >= 2 and features.version >= (1, 8)
