"""The agent supervising a real HAProxy: upload, validate, start, reload, stop, delete."""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
import uuid

import pytest

from octavia.amphorae.agent import master_cli
from tests.integration.agent.conftest import (
    Agent,
    free_port,
    haproxy_pids_under,
    http_get,
    restart_agent,
    start_agent,
    stop_agent,
    tiny_config,
)

pytestmark = pytest.mark.slow


def _upload(agent: Agent, lb_id: str, text: str) -> tuple[int, dict[str, str]]:
    response = agent.request("PUT", f"/1.0/loadbalancer/{agent.amphora_id}/{lb_id}/haproxy", content=text)
    return response.status_code, response.json()


def _action(agent: Agent, lb_id: str, action: str) -> tuple[int, dict[str, str]]:
    response = agent.request("PUT", f"/1.0/loadbalancer/{lb_id}/{action}")
    return response.status_code, response.json()


def _status(agent: Agent, lb_id: str) -> dict[str, object]:
    entries = agent.request("GET", "/1.0/listeners").json()
    return next(entry for entry in entries if entry["lb_id"] == lb_id)


@pytest.fixture
def lb(agent: Agent):  # type: ignore[no-untyped-def]
    """A load balancer serving "v0" on its own port; deleted afterwards."""
    lb_id = str(uuid.uuid4())
    port = free_port(agent.address(2))
    assert _upload(agent, lb_id, tiny_config(agent, lb_id, port, "v0"))[0] == 202
    code, body = _action(agent, lb_id, "start")
    assert code == 202, body
    yield lb_id, port
    agent.request("DELETE", f"/1.0/loadbalancer/{lb_id}")


def test_start_serves_traffic_and_reports_active(agent: Agent, lb: tuple[str, int]) -> None:
    lb_id, port = lb
    assert http_get(agent.address(2), port) == (200, b"v0")
    status = _status(agent, lb_id)
    assert status["status"] == "ACTIVE"
    assert status["frontends"] == [f"{lb_id}-fe"]
    assert os.path.exists(os.path.join(agent.lb_dir(lb_id), "haproxy.sock"))
    assert os.path.exists(os.path.join(agent.lb_dir(lb_id), "master.sock"))
    config = agent.request("GET", f"/1.0/loadbalancer/{lb_id}/haproxy")
    assert config.status_code == 200 and "string v0" in config.text


def test_invalid_config_is_refused_and_old_one_keeps_serving(agent: Agent, lb: tuple[str, int]) -> None:
    lb_id, port = lb
    broken = tiny_config(agent, lb_id, port, "v1") + "    no_such_keyword here\n"
    code, body = _upload(agent, lb_id, broken)
    assert code == 400
    assert "no_such_keyword" in body["details"]
    assert "string v0" in agent.request("GET", f"/1.0/loadbalancer/{lb_id}/haproxy").text
    assert _action(agent, lb_id, "reload")[0] == 202
    assert http_get(agent.address(2), port) == (200, b"v0")


def test_unbindable_config_is_refused_at_upload(agent: Agent, lb: tuple[str, int]) -> None:
    """`haproxy -c` accepts a bind on an address this host lacks; the agent's bind probe does not
    (a reload would pause the running listeners while HAProxy retries the bind)."""
    lb_id, port = lb
    code, body = _upload(agent, lb_id, tiny_config(agent, lb_id, port, "v1", bind_host="192.0.2.1"))
    assert code == 400
    assert f"Cannot bind 192.0.2.1:{port}" in body["details"]
    assert "string v0" in agent.request("GET", f"/1.0/loadbalancer/{lb_id}/haproxy").text
    assert http_get(agent.address(2), port) == (200, b"v0")


def test_failed_reload_is_reported_and_rolled_back(agent: Agent, lb: tuple[str, int]) -> None:
    """A configuration file changed behind the agent's back that passes `haproxy -c` but
    cannot be bound: the reload fails, the running file is put back."""
    lb_id, port = lb
    with open(os.path.join(agent.lb_dir(lb_id), "haproxy.cfg"), "w") as cfg:
        cfg.write(tiny_config(agent, lb_id, port, "v1", bind_host="192.0.2.1"))
    code, body = _action(agent, lb_id, "reload")
    assert code == 500
    assert "Reload failed" in body["details"]
    assert "192.0.2.1" in body["details"]
    assert http_get(agent.address(2), port) == (200, b"v0")
    assert "string v0" in agent.request("GET", f"/1.0/loadbalancer/{lb_id}/haproxy").text
    assert _status(agent, lb_id)["status"] == "ACTIVE"


def test_stop_then_start(agent: Agent, lb: tuple[str, int]) -> None:
    lb_id, port = lb
    assert _action(agent, lb_id, "stop")[0] == 202
    with pytest.raises(OSError):
        http_get(agent.address(2), port, timeout=1)
    assert _status(agent, lb_id)["status"] == "OFFLINE"
    assert haproxy_pids_under(agent.lb_dir(lb_id)) == set()
    assert _action(agent, lb_id, "start")[0] == 202
    assert http_get(agent.address(2), port) == (200, b"v0")


def test_unknown_lb_and_action(agent: Agent) -> None:
    missing = str(uuid.uuid4())
    response = agent.request("PUT", f"/1.0/loadbalancer/{missing}/reload")
    assert response.status_code == 404
    assert response.json()["message"] == "Loadbalancer Not Found"
    assert agent.request("GET", f"/1.0/loadbalancer/{missing}/haproxy").status_code == 404
    assert agent.request("DELETE", f"/1.0/loadbalancer/{missing}").status_code == 404
    response = agent.request("PUT", f"/1.0/loadbalancer/{missing}/explode")
    assert response.status_code == 400
    assert response.json()["details"] == "Unknown action: explode"


def test_config_for_another_amphora_is_refused(agent: Agent) -> None:
    response = agent.request("PUT", f"/1.0/loadbalancer/{uuid.uuid4()}/{uuid.uuid4()}/haproxy", content="x")
    assert response.status_code == 400


def test_dead_haproxy_is_reported_not_restarted(agent: Agent, lb: tuple[str, int]) -> None:
    lb_id, port = lb
    master = _status(agent, lb_id)["pid"]
    assert isinstance(master, int)
    os.kill(master, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _status(agent, lb_id)["status"] != "ERROR" and time.monotonic() < deadline:
        time.sleep(0.1)
    status = _status(agent, lb_id)
    assert status["status"] == "ERROR"
    assert "exited unexpectedly" in str(status["reason"])
    assert "exited unexpectedly" in agent.log()
    time.sleep(0.5)
    assert _status(agent, lb_id)["status"] == "ERROR"
    assert _action(agent, lb_id, "start")[0] == 202
    assert http_get(agent.address(2), port) == (200, b"v0")


def test_delete_kills_haproxy_and_removes_files(agent: Agent) -> None:
    lb_id = str(uuid.uuid4())
    port = free_port(agent.address(2))
    assert _upload(agent, lb_id, tiny_config(agent, lb_id, port, "x"))[0] == 202
    assert _action(agent, lb_id, "start")[0] == 202
    assert http_get(agent.address(2), port) == (200, b"x")
    # a second generation of workers, so that old and new processes exist
    assert _action(agent, lb_id, "reload")[0] == 202
    assert haproxy_pids_under(agent.lb_dir(lb_id))
    response = agent.request("DELETE", f"/1.0/loadbalancer/{lb_id}")
    assert response.status_code == 200
    assert haproxy_pids_under(agent.lb_dir(lb_id)) == set()
    assert not os.path.exists(agent.lb_dir(lb_id))
    with pytest.raises(OSError):
        http_get(agent.address(2), port, timeout=1)
    assert all(entry["lb_id"] != lb_id for entry in agent.request("GET", "/1.0/listeners").json())


def _load_loop(host: str, port: int, stop: threading.Event, results: dict[str, int], deadline: float) -> None:
    """New connection per request, and a keep-alive connection, until stopped (bounded)."""
    keepalive = http.client.HTTPConnection(host, port, timeout=5)
    use_keepalive = False
    while not stop.is_set() and time.monotonic() < deadline:
        use_keepalive = not use_keepalive
        try:
            if use_keepalive:
                keepalive.request("GET", "/")
                response = keepalive.getresponse()
                response.read()
                if response.will_close:
                    keepalive.close()
                status = response.status
            else:
                status = http_get(host, port)[0]
            results["ok" if status == 200 else "bad"] += 1
        except (OSError, http.client.HTTPException) as exc:
            results["failed"] += 1
            results.setdefault(f"error:{type(exc).__name__}", 0)
            results[f"error:{type(exc).__name__}"] += 1
            keepalive.close()
    keepalive.close()


def test_hitless_reloads_under_load(agent: Agent, lb: tuple[str, int]) -> None:
    lb_id, port = lb
    host = agent.address(2)
    stop = threading.Event()
    deadline = time.monotonic() + 60
    results = [{"ok": 0, "bad": 0, "failed": 0} for _ in range(4)]
    threads = [
        threading.Thread(target=_load_loop, args=(host, port, stop, result, deadline)) for result in results
    ]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    try:
        for generation in range(1, 21):
            assert _upload(agent, lb_id, tiny_config(agent, lb_id, port, f"v{generation}"))[0] == 202
            code, body = _action(agent, lb_id, "reload")
            assert code == 202, body
    finally:
        elapsed = time.monotonic() - started
        stop.set()
        for thread in threads:
            thread.join()
    total = {key: sum(result.get(key, 0) for result in results) for key in {k for r in results for k in r}}
    assert total["failed"] == 0, total
    assert total["bad"] == 0, total
    assert total["ok"] > 100, total
    assert elapsed < 30, elapsed
    assert http_get(host, port) == (200, b"v20")


def test_clean_agent_exit_stops_haproxy(pki) -> None:  # type: ignore[no-untyped-def]
    own = start_agent(pki)
    try:
        lb_id = str(uuid.uuid4())
        port = free_port(own.address(2))
        assert _upload(own, lb_id, tiny_config(own, lb_id, port, "bye"))[0] == 202
        assert _action(own, lb_id, "start")[0] == 202
        assert haproxy_pids_under(own.lb_dir(lb_id))
        own.process.send_signal(signal.SIGTERM)
        own.process.wait(timeout=20)
        assert haproxy_pids_under(own.directory) == set()
        assert "stopping" in own.log()
    finally:
        stop_agent(own)


def test_restarted_agent_restarts_enabled_haproxy(pki) -> None:  # type: ignore[no-untyped-def]
    """A clean exit stops HAProxy, but the load balancer comes back with the agent."""
    own = start_agent(pki)
    try:
        lb_id = str(uuid.uuid4())
        port = free_port(own.address(2))
        assert _upload(own, lb_id, tiny_config(own, lb_id, port, "again"))[0] == 202
        assert _action(own, lb_id, "start")[0] == 202
        own.process.send_signal(signal.SIGTERM)
        own.process.wait(timeout=20)
        restart_agent(own)
        assert http_get(own.address(2), port) == (200, b"again")
        assert _status(own, lb_id)["status"] == "ACTIVE"
    finally:
        stop_agent(own)


def test_restarted_agent_adopts_haproxy_left_by_a_crash(pki) -> None:  # type: ignore[no-untyped-def]
    """A killed agent leaves HAProxy serving; the next agent takes it over instead of
    starting a second one on the same port (which SO_REUSEPORT would silently allow)."""
    own = start_agent(pki)
    try:
        lb_id = str(uuid.uuid4())
        port = free_port(own.address(2))
        assert _upload(own, lb_id, tiny_config(own, lb_id, port, "kept"))[0] == 202
        assert _action(own, lb_id, "start")[0] == 202
        master = _status(own, lb_id)["pid"]
        own.process.kill()
        own.process.wait(timeout=10)
        assert http_get(own.address(2), port) == (200, b"kept")
        restart_agent(own)
        assert _status(own, lb_id) | {"frontends": None} == {
            "lb_id": lb_id, "status": "ACTIVE", "reason": None, "pid": master, "frontends": None
        }
        assert haproxy_pids_under(own.lb_dir(lb_id)) >= {master}
        assert _action(own, lb_id, "reload")[0] == 202
        assert http_get(own.address(2), port) == (200, b"kept")
        assert own.request("DELETE", f"/1.0/loadbalancer/{lb_id}").status_code == 200
        assert haproxy_pids_under(own.directory) == set()
    finally:
        stop_agent(own)


def _stats(agent: Agent, lb_id: str, command: str) -> str:
    return master_cli.send_command(f"{agent.lb_dir(lb_id)}/haproxy.sock", command)


def _worker_pid(agent: Agent, lb_id: str) -> str:
    return next(line for line in _stats(agent, lb_id, "show info").splitlines() if line.startswith("Pid:"))


def test_runtime_server_states_survive_a_reload(agent: Agent) -> None:
    """A checked server put in maintenance at runtime (or found DOWN) is still so in
    the new worker; a server the old config disabled and the new one enables starts
    afresh instead of staying stopped."""
    lb_id, port = str(uuid.uuid4()), free_port(agent.address(2))
    lb_dir = agent.lb_dir(lb_id)
    backend = f"{agent.address(2)}:{free_port(agent.address(2))}"

    def config(body: str, s2_option: str) -> str:
        text = tiny_config(agent, lb_id, port, body)
        state_file = f"    server-state-file {lb_dir}/servers.state\n"
        text = text.replace("    maxconn 1000\n", "    maxconn 1000\n" + state_file)
        text = text.replace("defaults\n", "defaults\n    load-server-state-from-file global\n")
        servers = f"    server s1 {backend} check inter 60s\n    server s2 {backend} {s2_option}\n"
        return text + "backend bk\n" + servers

    def servers() -> dict[str, tuple[int, str]]:
        """server -> (maintenance forced at runtime, status)."""
        dump = _stats(agent, lb_id, "show servers state bk").splitlines()[2:]
        state = [line.split() for line in dump if line]
        rows = [line.split(",") for line in _stats(agent, lb_id, "show stat").splitlines()]
        stat = {row[1]: row[17] for row in rows if len(row) > 17 and row[0] == "bk"}
        return {fields[3]: (int(fields[6]) & 0x01, stat[fields[3]]) for fields in state}

    assert _upload(agent, lb_id, config("v0", "disabled"))[0] == 202
    assert _action(agent, lb_id, "start")[0] == 202
    try:
        pid_before = _worker_pid(agent, lb_id)
        assert _stats(agent, lb_id, "set server bk/s1 state maint").strip() == ""
        assert servers() == {"s1": (1, "MAINT"), "s2": (1, "MAINT")}
        assert _upload(agent, lb_id, config("v1", ""))[0] == 202
        code, body = _action(agent, lb_id, "reload")
        assert code == 202, body
        assert http_get(agent.address(2), port) == (200, b"v1")
        assert _worker_pid(agent, lb_id) != pid_before
        assert servers() == {"s1": (1, "MAINT"), "s2": (0, "no check")}
        assert os.path.exists(f"{lb_dir}/servers.state")
    finally:
        agent.request("DELETE", f"/1.0/loadbalancer/{lb_id}")
