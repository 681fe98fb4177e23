"""Names that reach the file system are checked: no escaping the load balancer directory."""

from __future__ import annotations

import pytest

from octavia.amphorae.agent.haproxy_files import frontend_names
from octavia.amphorae.agent.layout import InvalidName, lb_paths


def test_fixed_layout() -> None:
    paths = lb_paths("/amp/lbs", "5f2b8a62-0bd3-4a49-9a2c-6f0c8b2d9e11")
    lb_dir = "/amp/lbs/5f2b8a62-0bd3-4a49-9a2c-6f0c8b2d9e11"
    assert paths.config == f"{lb_dir}/haproxy.cfg"
    assert paths.stats_socket == f"{lb_dir}/haproxy.sock"
    assert paths.master_socket == f"{lb_dir}/master.sock"
    assert paths.pid_file == f"{lb_dir}/haproxy.pid"
    assert paths.cert("abc.pem") == f"{lb_dir}/certs/abc.pem"


@pytest.mark.parametrize("lb_id", ["..", "../x", "a/b", "", ".hidden", "x" * 65, "a b"])
def test_bad_lb_ids(lb_id: str) -> None:
    with pytest.raises(InvalidName):
        lb_paths("/amp/lbs", lb_id)


@pytest.mark.parametrize("name", ["../a.pem", "a/b.pem", ".a.pem", "a.txt", "a..pem", "a.pem/", "pem"])
def test_bad_certificate_names(name: str) -> None:
    with pytest.raises(InvalidName):
        lb_paths("/amp/lbs", "lb").cert(name)


def test_frontend_names() -> None:
    config = b"global\nfrontend a1\n  bind :80\nbackend b\nlisten stats\n   bind :1\n"
    assert frontend_names(config) == ["a1", "stats"]
