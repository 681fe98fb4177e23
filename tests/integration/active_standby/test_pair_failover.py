"""ACTIVE_STANDBY built through the API: the MASTER holds the VIP, and each way of losing
it (HAProxy, agent or keepalived killed, VRRP link down) costs under a second of traffic
to a client probing every 10 ms; the lost amphora is rebuilt in the background and the
load balancer is back to ACTIVE with two amphorae."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.active_standby import harness
from tests.integration.active_standby.harness import Probe, TunedAllInOne, wait_pair
from tests.integration.e2e.traffic import answers

pytestmark = pytest.mark.slow

LOSS_LIMIT_S = 1.0
CLEAN_HANDOVER_LIMIT_S = 0.6


def _amphora(aio: TunedAllInOne, amphora_id: str) -> dict[str, Any]:
    return dict(aio.get(f"/v2/octavia/amphorae/{amphora_id}")["amphora"])


def test_pair_has_roles_and_the_master_holds_the_vip(aio: TunedAllInOne, pair_lb: dict[str, Any]) -> None:
    holder, other = wait_pair(aio, pair_lb["id"], pair_lb["vip_address"], gone=None)
    roles = {a["id"]: a["role"] for a in aio.amphorae(pair_lb["id"])}
    assert sorted(roles.values()) == ["BACKUP", "MASTER"]
    assert roles[holder] == "MASTER"
    shown = _amphora(aio, other)
    assert shown["vrrp_ip"] and shown["ha_ip"] == pair_lb["vip_address"]
    assert answers(pair_lb["vip_address"], 10) == collections.Counter({"b1": 5, "b2": 5})
    assert harness.haproxy_pids(aio.amphora_dir(other)), "the BACKUP's HAProxy listens on the VIP too"


Breaker = Callable[[TunedAllInOne, str], None]


def _kill_haproxy(aio: TunedAllInOne, amphora_id: str) -> None:
    harness.kill_haproxy(aio.amphora_dir(amphora_id))


def _kill_agent(aio: TunedAllInOne, amphora_id: str) -> None:
    harness.kill_agent(aio.amphora_dir(amphora_id))


def _kill_keepalived(aio: TunedAllInOne, amphora_id: str) -> None:
    harness.kill_keepalived(aio.amphora_dir(amphora_id))


def _link_down(aio: TunedAllInOne, amphora_id: str) -> None:
    harness.link_down(amphora_id, _amphora(aio, amphora_id)["vrrp_interface"] or "eth1")


# (breaker, the amphora is rebuilt, loss limit)
FAILURES: dict[str, tuple[Breaker, bool, float]] = {
    "haproxy-killed": (_kill_haproxy, True, CLEAN_HANDOVER_LIMIT_S),
    "agent-killed": (_kill_agent, True, LOSS_LIMIT_S),
    "keepalived-killed": (_kill_keepalived, False, LOSS_LIMIT_S),
    "link-down": (_link_down, True, LOSS_LIMIT_S),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_losing_the_master(aio: TunedAllInOne, pair_lb: dict[str, Any], failure: str,
                           capsys: pytest.CaptureFixture[str]) -> None:
    breaker, rebuilt, limit = FAILURES[failure]
    lb_id, vip = pair_lb["id"], pair_lb["vip_address"]
    master, backup = wait_pair(aio, lb_id, vip, gone=None)
    with Probe(vip) as probe:
        time.sleep(0.3)
        since = time.monotonic()
        breaker(aio, master)
        healed = wait_pair(aio, lb_id, vip, gone=master if rebuilt else None)
        time.sleep(0.5)
        until = time.monotonic()
    loss = probe.result.loss_window(since, until)
    with capsys.disabled():
        print(f"\n[ACTIVE_STANDBY] {failure}: loss window {loss * 1000:.0f} ms, "
              f"{probe.result.failed} failed probes of {probe.result.ok + probe.result.failed}, "
              f"pair healed in {until - since - 0.5:.1f} s")
    assert loss < limit, f"{failure}: {loss:.3f} s without an answer"
    assert (master in healed) is not rebuilt
    assert backup in healed, "the BACKUP survives"
    assert harness.vip_holders(healed, vip) == [healed[0]]


def test_lb_failover_under_traffic(aio: TunedAllInOne, pair_lb: dict[str, Any],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    lb_id, vip = pair_lb["id"], pair_lb["vip_address"]
    old = set(wait_pair(aio, lb_id, vip, gone=None))
    with Probe(vip) as probe:
        time.sleep(0.3)
        since = time.monotonic()
        aio.call("PUT", f"/v2/lbaas/loadbalancers/{lb_id}/failover", expect=202)
        aio.wait_lb(lb_id, timeout=60)
        healed = wait_pair(aio, lb_id, vip, gone=None)
        until = time.monotonic()
    loss = probe.result.loss_window(since, until)
    with capsys.disabled():
        print(f"\n[ACTIVE_STANDBY] LB failover: loss window {loss * 1000:.0f} ms, "
              f"both amphorae replaced in {until - since:.1f} s")
    assert not old & set(healed), "both amphorae replaced"
    assert loss < LOSS_LIMIT_S


def test_amphora_dirs_of_retired_amphorae_are_gone(aio: TunedAllInOne, pair_lb: dict[str, Any]) -> None:
    live = {a["id"] for a in aio.amphorae(pair_lb["id"])}
    root = aio.state_path / "amphorae"
    left = {p.name for p in Path(root).iterdir() if not p.name.startswith(".")}
    assert left == live
