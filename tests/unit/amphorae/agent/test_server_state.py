"""Saved server states the new configuration can take, and those it must not."""

from __future__ import annotations

from octavia.amphorae.agent import server_state

HEADER = (
    "1\n"
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight\n"
)


def _line(backend: str, server: str, op_state: int, admin_state: int) -> str:
    return f"3 {backend} 1 {server} 192.0.2.1 {op_state} {admin_state} 1 1 7 6 3 4 6 0 0 0 - 80 - 0 0 - - 0"


CONFIG = """
global
    maxconn 100
defaults
    mode http
frontend fe
    bind :80
    default_backend checked
backend checked
    server up 192.0.2.1:80 weight 1 check inter 5s
    server down 192.0.2.2:80 check
    server plain 192.0.2.3:80 weight 1  # check mentioned only in a comment
backend by-default
    default-server check inter 2s
    server a 192.0.2.4:80
listen inline
    bind :81
    server b 192.0.2.5:80 check
"""


def test_servers_with_checks_are_found_per_backend() -> None:
    assert server_state.checked_servers(CONFIG) == {
        ("checked", "up"), ("checked", "down"), ("by-default", "a"), ("inline", "b"),
    }


def test_default_server_check_in_defaults_applies_to_later_backends() -> None:
    config = "defaults\n    default-server check\nbackend x\n    server s 192.0.2.1:80\n"
    assert server_state.checked_servers(config) == {("x", "s")}
    reset = config + "defaults\n    mode tcp\nbackend y\n    server t 192.0.2.1:80\n"
    assert server_state.checked_servers(reset) == {("x", "s")}


def test_checked_servers_keep_their_state() -> None:
    state = HEADER + _line("checked", "up", 2, 0) + "\n" + _line("checked", "down", 0, 0) + "\n"
    assert server_state.carried(state, CONFIG) == state


def test_a_server_no_longer_checked_starts_afresh() -> None:
    state = HEADER + _line("checked", "plain", 0, 0) + "\n"
    assert server_state.carried(state, CONFIG) == HEADER


def test_a_server_disabled_by_the_old_config_starts_afresh() -> None:
    state = HEADER + _line("checked", "up", 0, 0x05) + "\n" + _line("checked", "down", 0, 0x01) + "\n"
    assert server_state.carried(state, CONFIG) == HEADER + _line("checked", "down", 0, 0x01) + "\n"


def test_servers_gone_from_the_config_and_garbage_are_dropped() -> None:
    state = HEADER + _line("old", "up", 2, 0) + "\nnot a state line\n"
    assert server_state.carried(state, CONFIG) == HEADER
