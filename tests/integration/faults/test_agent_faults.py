"""An amphora agent that hangs, answers 500 or answers garbage: the flow gives up within
the configured agent retries, the load balancer ends in ERROR with the reason in the
log, HAProxy keeps serving the last good configuration meanwhile, and a failover
through the API repairs the load balancer (new amphora, ACTIVE, traffic flows)."""

from __future__ import annotations

import collections
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.e2e.harness import wait_for
from tests.integration.e2e.host import pid_alive
from tests.integration.e2e.traffic import NamedBackend, answers
from tests.integration.faults import harness
from tests.integration.faults.harness import AGENT_GIVE_UP_S, FaultAllInOne, LocalAmphora

pytestmark = pytest.mark.slow
# Time the worker needs around the agent calls themselves (DB, rendering, status).
SLACK_S = 10.0


def _build(aio: FaultAllInOne, backends: list[NamedBackend], name: str) -> tuple[str, str]:
    created = harness.create_lb(aio, backends[:2], name)
    assert answers(created["vip_address"], 4) == collections.Counter({"b1": 2, "b2": 2})
    return created["id"], created["vip_address"]


def _hang(amphora: LocalAmphora, port: int) -> contextlib.AbstractContextManager[Any]:
    return harness.stopped(amphora.agent_pid)


def _answer_500(amphora: LocalAmphora, port: int) -> contextlib.AbstractContextManager[Any]:
    return harness.fake_agent(amphora, port, "500")


def _garbage(amphora: LocalAmphora, port: int) -> contextlib.AbstractContextManager[Any]:
    return harness.fake_agent(amphora, port, "garbage")


FAULTS: dict[str, tuple[Callable[[LocalAmphora, int], contextlib.AbstractContextManager[Any]], str]] = {
    # fault -> (how to break the agent, what the worker's log must say)
    "hang": (_hang, f"unreachable after {harness.CONN_RETRIES} attempts"),
    "500": (_answer_500, "agent answered 500 Internal Server Error: fault injected by the test"),
    "garbage": (_garbage, "RemoteProtocolError"),
}


@pytest.fixture
def cleanup(aio: FaultAllInOne) -> Iterator[list[str]]:
    lb_ids: list[str] = []
    yield lb_ids
    for lb_id in lb_ids:
        with contextlib.suppress(AssertionError):
            aio.wait_lb(lb_id, timeout=AGENT_GIVE_UP_S + SLACK_S)
        harness.delete_lb(aio, lb_id)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_broken_agent_fails_the_flow_in_time_and_failover_repairs(
    aio: FaultAllInOne, backends: list[NamedBackend], cleanup: list[str], fault: str
) -> None:
    lb_id, vip = _build(aio, backends, f"agent-{fault}")
    cleanup.append(lb_id)
    amphora = harness.local_amphora(aio, lb_id)
    port = int(amphora.agent_conf()["bind_port"])
    breaker, reason = FAULTS[fault]

    log_offset = aio.log_size()
    with breaker(amphora, port):
        started = time.monotonic()
        aio.call("PUT", f"/v2/lbaas/loadbalancers/{lb_id}", json={"loadbalancer": {"description": fault}})
        failed = aio.wait_lb(lb_id, "ERROR", timeout=AGENT_GIVE_UP_S + SLACK_S)
        gave_up_after = time.monotonic() - started
        print(f"\n{aio.mode} agent {fault}: load balancer ERROR after {gave_up_after:.1f} s "
              f"(agent retries allow {AGENT_GIVE_UP_S:.1f} s)")
        assert failed["provisioning_status"] == "ERROR"
        # The last good configuration keeps serving while the agent is broken.
        assert answers(vip, 4) == collections.Counter({"b1": 2, "b2": 2})

    log = aio.log_since(log_offset)
    assert f"Load balancer {lb_id} update failed; marking it ERROR" in log, _errors(log)
    assert reason in log

    started = time.monotonic()
    aio.call("PUT", f"/v2/lbaas/loadbalancers/{lb_id}/failover", expect=202)
    aio.wait_lb(lb_id, timeout=60)
    repaired_in = time.monotonic() - started
    replacement = harness.local_amphora(aio, lb_id)
    print(f"{aio.mode} agent {fault}: failover repaired the load balancer in {repaired_in:.1f} s")
    assert replacement.id != amphora.id
    assert not amphora.directory.exists()
    assert pid_alive(replacement.agent_pid)
    assert answers(vip, 4) == collections.Counter({"b1": 2, "b2": 2})
    # And the repaired load balancer takes changes again.
    aio.call("PUT", f"/v2/lbaas/loadbalancers/{lb_id}", json={"loadbalancer": {"description": "repaired"}})
    assert aio.wait_lb(lb_id)["description"] == "repaired"
    assert wait_for(lambda: answers(vip, 2) == collections.Counter({"b1": 1, "b2": 1}), 10)


def _errors(log: str) -> str:
    return "\n".join(line for line in log.splitlines() if "level=ERROR" in line or "level=WARNING" in line)
