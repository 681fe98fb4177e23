"""Parsing of HAProxy's `show info;show stat` answer and the sender's bookkeeping."""

from __future__ import annotations

import pytest
from oslo_config import cfg

from octavia.amphorae.agent import heartbeat_sender as sender
from octavia.common import config
from octavia.controller.health import heartbeat_packet as hb

L1 = "11111111-1111-1111-1111-111111111111"
P1 = "22222222-2222-2222-2222-222222222222"
M = ["33333333-3333-3333-3333-33333333333" + str(i) for i in range(5)]

HEADER = (
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,"
    "weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,"
)


def row(
    pxname: str,
    svname: str,
    *,
    scur: int = 0,
    stot: int = 0,
    bin_: int = 0,
    bout: int = 0,
    ereq: int = 0,
    status: str = "UP",
) -> str:
    fields = [
        pxname,
        svname,
        "",
        "",
        str(scur),
        "",
        "100",
        str(stot),
        str(bin_),
        str(bout),
        "0",
        "0",
        str(ereq),
        "",
        "",
        "",
        "",
        status,
    ] + [""] * 15
    return ",".join(fields)


def answer(pid: int, *rows: str) -> str:
    return f"Name: HAProxy\nPid: {pid}\nUptime_sec: 5\n\n" + HEADER + "\n" + "\n".join(rows) + "\n\n"


SAMPLE = answer(
    4242,
    row(L1, "FRONTEND", scur=3, stot=120, bin_=5000, bout=70000, ereq=4, status="OPEN"),
    row("stats", "FRONTEND", stot=9, status="OPEN"),
    row(f"{P1}:{L1}", M[0], status="UP"),
    row(f"{P1}:{L1}", M[1], status="DOWN 1/2"),
    row(f"{P1}:{L1}", M[2], status="DRAIN"),
    row(f"{P1}:{L1}", M[3], status="MAINT (via other/x)"),
    row(f"{P1}:{L1}", M[4], status="no check"),
    row(f"{P1}:{L1}", "BACKEND", status="UP"),
)


def test_parse_maps_frontends_backends_and_servers_to_ids() -> None:
    status = sender.parse_info_and_stat(SAMPLE)
    assert status.pid == 4242
    assert status.listeners == {
        L1: {
            "status": "OPEN",
            "stats": {
                "bytes_in": 5000,
                "bytes_out": 70000,
                "active_connections": 3,
                "total_connections": 120,
                "request_errors": 4,
            },
        }
    }
    assert status.pools == {
        P1: {
            "status": "UP",
            "members": {M[0]: "UP", M[1]: "DOWN", M[2]: "DRAIN", M[3]: "MAINT", M[4]: "no check"},
        }
    }


def test_stopped_frontend_is_left_out_and_down_backend_reported() -> None:
    status = sender.parse_info_and_stat(
        answer(
            1,
            row(L1, "FRONTEND", status="STOP"),
            row(P1, M[0], status="DOWN"),
            row(P1, "BACKEND", status="DOWN"),
        )
    )
    assert status.listeners == {}
    assert status.pools == {P1: {"status": "DOWN", "members": {M[0]: "DOWN"}}}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("UP", hb.MEMBER_UP),
        ("UP 1/3", hb.MEMBER_UP),
        ("DOWN", hb.MEMBER_DOWN),
        ("DOWN 1/2", hb.MEMBER_DOWN),
        ("DOWN (agent)", hb.MEMBER_DOWN),
        ("NOLB", hb.MEMBER_DRAIN),
        ("DRAIN", hb.MEMBER_DRAIN),
        ("DRAIN (agent)", hb.MEMBER_DRAIN),
        ("MAINT", hb.MEMBER_MAINT),
        ("MAINT (resolution)", hb.MEMBER_MAINT),
        ("no check", hb.MEMBER_NO_CHECK),
    ],
)
def test_member_status_mapping(raw: str, expected: str) -> None:
    assert sender.member_status(raw) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (f"{P1}:{L1}", P1),
        (P1, P1),
        (f"pool_{P1.upper()}", P1),
        ("stats", None),
        ("prometheus-exporter", None),
    ],
)
def test_pool_id_from_backend(name: str, expected: str | None) -> None:
    assert sender.pool_id_from_backend(name) == expected


def _stats(pid: int, total: int, active: int, bytes_in: int) -> sender.HaproxyStatus:
    return sender.parse_info_and_stat(
        answer(pid, row(L1, "FRONTEND", scur=active, stot=total, bin_=bytes_in, status="OPEN"))
    )


def test_counters_keep_growing_across_haproxy_reloads() -> None:
    acc = sender.CounterAccumulator()
    seen = []
    for pid, total, active, bytes_in in [(10, 5, 2, 500), (10, 8, 1, 800), (11, 3, 3, 300), (11, 4, 0, 400)]:
        status = _stats(pid, total, active, bytes_in)
        acc.apply("lb", status)
        seen.append(status.listeners[L1]["stats"])
    assert [s["total_connections"] for s in seen] == [5, 8, 11, 12]
    assert [s["bytes_in"] for s in seen] == [500, 800, 1100, 1200]
    assert [s["active_connections"] for s in seen] == [2, 1, 3, 0]  # a gauge, not accumulated


def test_counter_decrease_without_pid_change_also_counts_as_restart() -> None:
    acc = sender.CounterAccumulator()
    for total in (7, 2):
        status = _stats(1, total, 0, 0)
        acc.apply("lb", status)
    assert status.listeners[L1]["stats"]["total_connections"] == 9


def test_built_heartbeat_survives_encoding() -> None:
    status = sender.parse_info_and_stat(SAMPLE)
    heartbeat = sender.build_heartbeat(
        "amp-1", 99, {"listeners": status.listeners, "pools": status.pools}, 5.0
    )
    decoded = hb.decode(hb.encode(heartbeat, b"k"), b"k")
    assert decoded.listeners[L1].total_connections == 120
    assert decoded.pools[P1].members[M[1]] == hb.MEMBER_DOWN


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:5555", ("127.0.0.1", 5555)), ("[::1]:5556", ("::1", 5556)), ("::1:5557", ("::1", 5557))],
)
def test_parse_destination(text: str, expected: tuple[str, int]) -> None:
    assert sender.parse_destination(text) == expected


def test_parse_destination_rejects_missing_port() -> None:
    with pytest.raises(ValueError):
        sender.parse_destination("127.0.0.1")


def test_base_path_falls_back_when_the_agent_group_is_absent() -> None:
    conf = cfg.ConfigOpts()
    for group, opts in config.list_opts():
        conf.register_opts(opts, group=group)
    conf([], project="octavia-test", default_config_files=[])
    conf.set_override("state_path", "/srv/state")
    assert sender.agent_base_path(conf) == "/srv/state/amphorae"
    conf.set_override("base_path", "/srv/amps", group="haproxy_amphora")
    assert sender.agent_base_path(conf) == "/srv/amps"
    conf.register_opts([cfg.StrOpt("base_path"), cfg.StrOpt("amphora_id")], group="amphora_agent")
    conf.set_override("base_path", "/srv/agent", group="amphora_agent")
    assert sender.agent_base_path(conf) == "/srv/agent"


def test_start_requires_an_amphora_id() -> None:
    conf = cfg.ConfigOpts()
    for group, opts in config.list_opts():
        conf.register_opts(opts, group=group)
    conf([], project="octavia-test", default_config_files=[])
    with pytest.raises(ValueError, match="amphora_id"):
        sender.start(conf)
