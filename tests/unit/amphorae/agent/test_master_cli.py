"""Parsing HAProxy 2.6's `show proc` (captured from the real master CLI)."""

from __future__ import annotations

import pytest

from octavia.amphorae.agent.master_cli import MasterCLIError, parse_show_proc

STARTED = """#<PID>          <type>          <reloads>       <uptime>        <version>
31461           master          0 [failed: 0]   0d00h00m01s     2.6.12-1+deb12u4
# workers
31463           worker          0               0d00h00m01s     2.6.12-1+deb12u4
# programs

"""

FAILED_RELOAD = """#<PID>          <type>          <reloads>       <uptime>        <version>
31461           master          3 [failed: 1]   0d00h00m04s     2.6.12-1+deb12u4
# workers
31508           worker          1               0d00h00m03s     2.6.12-1+deb12u4
# programs

"""

DRAINING = """#<PID>          <type>          <reloads>       <uptime>        <version>
100             master          2 [failed: 0]   0d00h01m00s     2.6.12-1+deb12u4
# workers
300             worker          0               0d00h00m01s     2.6.12-1+deb12u4
200             worker          1               0d00h00m30s     2.6.12-1+deb12u4
# programs
"""


def test_started() -> None:
    table = parse_show_proc(STARTED)
    assert (table.master_pid, table.reloads, table.failed_reloads) == (31461, 0, 0)
    assert table.workers == {31463: 0}
    assert table.current_workers == {31463}


def test_failed_reload_keeps_the_old_worker() -> None:
    table = parse_show_proc(FAILED_RELOAD)
    assert table.reloads == 3 and table.failed_reloads == 1
    assert table.current_workers == set()
    assert table.workers == {31508: 1}


def test_old_worker_draining_beside_the_new_one() -> None:
    table = parse_show_proc(DRAINING)
    assert table.current_workers == {300}
    assert set(table.workers) == {200, 300}


@pytest.mark.parametrize("text", ["", "Unknown command\n", "# workers\n12 worker 0\n"])
def test_garbage_is_an_error(text: str) -> None:
    with pytest.raises(MasterCLIError):
        parse_show_proc(text)
