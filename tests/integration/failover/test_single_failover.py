"""SINGLE topology with tuned heartbeats (interval 0.5 s, timeout 2 s, scans every 0.5 s):
an amphora whose HAProxy, agent or whole namespace is lost is detected and rebuilt,
traffic comes back within 5 s of the failure, and the LB is ACTIVE/ONLINE again."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.active_standby import harness
from tests.integration.active_standby.harness import Probe, TunedAllInOne
from tests.integration.e2e.harness import wait_for

pytestmark = pytest.mark.slow

OUTAGE_LIMIT_S = 5.0
Breaker = Callable[[TunedAllInOne, str], None]

FAILURES: dict[str, Breaker] = {
    "haproxy-killed": lambda aio, amp: harness.kill_haproxy(aio.amphora_dir(amp)),
    "agent-killed": lambda aio, amp: harness.kill_agent(aio.amphora_dir(amp)),
    "namespace-deleted": lambda aio, amp: harness.destroy_namespace(amp),
}


def _only_amphora(aio: TunedAllInOne, lb_id: str) -> str:
    amphorae = aio.amphorae(lb_id)
    assert [a["status"] for a in amphorae] == ["ALLOCATED"], amphorae
    return str(amphorae[0]["id"])


def _rebuilt(aio: TunedAllInOne, lb_id: str, old: str) -> bool:
    lb = aio.lb(lb_id)
    amphorae = aio.amphorae(lb_id)
    return (lb["provisioning_status"], lb["operating_status"]) == ("ACTIVE", "ONLINE") and [
        (a["status"], a["id"] != old) for a in amphorae
    ] == [("ALLOCATED", True)]


@pytest.mark.parametrize("failure", list(FAILURES))
def test_lost_amphora_is_rebuilt(aio: TunedAllInOne, single_lb: dict[str, Any], failure: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    if failure == "namespace-deleted" and aio.mode != "netns":
        pytest.skip("loopback amphorae have no namespace")
    lb_id, vip = single_lb["id"], single_lb["vip_address"]
    assert wait_for(lambda: aio.lb(lb_id)["operating_status"] == "ONLINE", 30), aio.lb(lb_id)
    old = _only_amphora(aio, lb_id)
    with Probe(vip) as probe:
        time.sleep(0.3)
        since = time.monotonic()
        FAILURES[failure](aio, old)
        assert wait_for(lambda: _rebuilt(aio, lb_id, old), 30, interval=0.1), (
            f"{failure}: not rebuilt: {aio.lb(lb_id)} {aio.amphorae(lb_id)}\n{aio.log_tail()}"
        )
        rebuilt = time.monotonic()
        wait_for(lambda: probe.result.successes and probe.result.successes[-1] > rebuilt, 5)
        until = time.monotonic()
    outage = probe.result.loss_window(since, until)
    with capsys.disabled():
        print(f"\n[SINGLE {aio.mode}] {failure}: traffic lost for {outage:.2f} s, "
              f"LB ACTIVE/ONLINE on a new amphora {rebuilt - since:.2f} s after the failure")
    assert outage < OUTAGE_LIMIT_S, f"{failure}: {outage:.2f} s without an answer"
