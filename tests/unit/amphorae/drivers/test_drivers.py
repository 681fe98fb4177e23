"""Every amphora driver entry point honours the contract; noop records; retry settings."""

from __future__ import annotations

import ssl
from importlib.metadata import entry_points

import pytest

from octavia.amphorae.drivers.agent_client import AgentClient, _identity_failure, timeouts
from octavia.amphorae.drivers.base import AmphoraLoadBalancerDriver
from octavia.amphorae.drivers.errors import AgentUnreachable
from octavia.amphorae.drivers.noop import NoopAmphoraDriver
from octavia.common.config import CONF
from octavia.db import models

DRIVERS = sorted(entry.name for entry in entry_points(group="octavia.amphora.drivers"))


def test_upstream_names_are_registered() -> None:
    assert {"amphora_noop_driver", "amphora_haproxy_rest_driver"} <= set(DRIVERS)


@pytest.mark.parametrize("name", DRIVERS)
def test_driver_implements_the_contract(name: str) -> None:
    (entry,) = entry_points(group="octavia.amphora.drivers", name=name)
    driver = entry.load()()
    assert isinstance(driver, AmphoraLoadBalancerDriver)


def test_noop_records_calls_and_answers_info() -> None:
    driver = NoopAmphoraDriver()
    amphora = models.Amphora(id="a1", status="ALLOCATED")
    lb = models.LoadBalancer(id="lb1")
    driver.update_amphora_listeners(lb, amphora)
    driver.reload(lb)
    assert driver.get_info(amphora)["amphora_id"] == "a1"
    assert list(driver.calls)[:2] == [("update_amphora_listeners", ("lb1", "a1")), ("reload", ("lb1", None))]
    for _ in range(NoopAmphoraDriver.RECORDED_CALLS + 10):
        driver.check(amphora)
    assert len(driver.calls) == NoopAmphoraDriver.RECORDED_CALLS


def test_timeouts_follow_config_and_timeout_dict() -> None:
    conf = CONF.haproxy_amphora
    booting = timeouts(None)
    assert (booting.max_retries, booting.retry_interval) == (conf.connection_max_retries,
                                                             conf.connection_retry_interval)
    active = timeouts(None, active=True)
    assert active.max_retries == conf.active_connection_max_retries
    assert (active.connect, active.read) == (conf.rest_request_conn_timeout, conf.rest_request_read_timeout)
    custom = timeouts({"req_read_timeout": 2, "conn_max_retries": 0})
    assert custom.read == 2.0 and custom.max_retries == 1


def test_identity_failure_is_found_in_the_cause_chain() -> None:
    verify = ssl.SSLCertVerificationError("hostname mismatch")
    try:
        try:
            raise verify
        except ssl.SSLError as inner:
            raise ConnectionError("connect failed") from inner
    except ConnectionError as outer:
        assert _identity_failure(outer) is verify
    assert _identity_failure(ConnectionRefusedError()) is None


def test_amphora_without_management_address() -> None:
    with pytest.raises(AgentUnreachable):
        AgentClient.base_url(models.Amphora(id="a1", lb_network_ip=None))
    CONF.set_override("bind_port", 9999, group="haproxy_amphora")
    try:
        assert AgentClient.base_url(models.Amphora(id="a", lb_network_ip="fd00::5")) == "https://[fd00::5]:9999/1.0"
    finally:
        CONF.clear_override("bind_port", group="haproxy_amphora")
