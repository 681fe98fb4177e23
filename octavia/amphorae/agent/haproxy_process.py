"""One supervised HAProxy (master-worker) per load balancer.

HAProxy runs as `haproxy -Ws -S master.sock -f haproxy.cfg -p haproxy.pid` in its own
process group. Reloads go through the master CLI, which passes the listening sockets
to the new worker (no dropped connection), and are verified with `show proc`: HAProxy
keeps the old worker when a reload fails, so a failure is otherwise silent.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import signal
import subprocess
import threading
import time

from octavia.amphorae.agent import haproxy_files, master_cli, server_state
from octavia.amphorae.agent.layout import LBPaths, write_atomically

LOG = logging.getLogger(__name__)

POLL_INTERVAL = 0.02
HARD_STOP_TIMEOUT = 5.0
MAX_LOG_BYTES = 1 << 20
SERVER_STATE_VERSION = "1\n"  # the first line of `show servers state` (its format version)


class HAProxyError(RuntimeError):
    """HAProxy did not start, reload or stop as asked; the message says why."""


class Status(enum.StrEnum):
    ACTIVE = "ACTIVE"
    OFFLINE = "OFFLINE"
    ERROR = "ERROR"


def pid_alive(pid: int) -> bool:
    """True for a live (non-zombie) process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False
    return state != b"Z"


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [part.decode(errors="replace") for part in handle.read().split(b"\0") if part]
    except OSError:
        return []


class HAProxyInstance:
    """Start, reload, stop and watch the HAProxy of one load balancer."""

    def __init__(self, paths: LBPaths, haproxy_cmd: str, timeout: float) -> None:
        self.paths = paths
        self._cmd = haproxy_cmd
        self._timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._master_pid: int | None = None
        self._running_config: bytes | None = None
        self._validated: bytes | None = None
        self.failure: str | None = None
        self.lock = threading.RLock()

    # -- state ---------------------------------------------------------------

    def _alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._master_pid is not None and pid_alive(self._master_pid)

    @property
    def master_pid(self) -> int | None:
        return self._master_pid if self._alive() else None

    def status(self) -> Status:
        if self._alive():
            return Status.ACTIVE
        return Status.ERROR if self.failure else Status.OFFLINE

    def _owns(self, pid: int) -> bool:
        """Whether `pid` is an HAProxy of this load balancer (guards every kill)."""
        cmdline = _cmdline(pid)
        return bool(cmdline) and os.path.realpath(self.paths.config) in cmdline

    # -- logs ----------------------------------------------------------------

    def _log_offset(self) -> int:
        try:
            return os.path.getsize(self.paths.log)
        except FileNotFoundError:
            return 0

    def _log_since(self, offset: int) -> str:
        try:
            with open(self.paths.log, "rb") as handle:
                handle.seek(offset)
                text = handle.read().decode(errors="replace")
        except FileNotFoundError:
            return ""
        lines = [line for line in text.splitlines() if "[ALERT]" in line or "[WARNING]" in line]
        return "\n".join(lines[-20:])

    # -- lifecycle -----------------------------------------------------------

    def adopt(self) -> bool:
        """Take over an HAProxy left running by a previous agent process."""
        with self.lock:
            try:
                with open(self.paths.pid_file) as handle:
                    pid = int(handle.read().split()[0])
            except (OSError, ValueError, IndexError):
                return False
            if not pid_alive(pid) or not self._owns(pid):
                return False
            self._process = None
            self._master_pid = pid
            self._running_config = haproxy_files.read_config(self.paths)
            self.failure = None
            LOG.info("Adopted running HAProxy %d of load balancer %s", pid, self.paths.lb_id)
            return True

    def start(self) -> str:
        with self.lock:
            if self._alive():
                return f"haproxy for {self.paths.lb_id} is already running"
            if not os.path.isfile(self.paths.config):
                raise HAProxyError(f"No configuration for load balancer {self.paths.lb_id}")
            if self._log_offset() > MAX_LOG_BYTES:
                os.truncate(self.paths.log, 0)
            offset = self._log_offset()
            env = {key: value for key, value in os.environ.items() if key != "NOTIFY_SOCKET"}
            with open(self.paths.log, "ab") as log:
                self._process = subprocess.Popen(
                    # Real paths name the amphora's directory in the command line (what the
                    # compute driver looks for when it deletes the amphora); the master socket
                    # keeps the short base path, as UNIX socket paths are limited to 97 bytes.
                    [self._cmd, "-Ws", "-S", self.paths.master_socket,
                     "-f", os.path.realpath(self.paths.config), "-p", os.path.realpath(self.paths.pid_file)],
                    cwd=self.paths.directory,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=env,
                    start_new_session=True,
                )
            self._master_pid = self._process.pid
            self._wait_started(offset)
            self._running_config = haproxy_files.read_config(self.paths)
            self.failure = None
            write_atomically(self.paths.enabled_marker, b"")
            LOG.info("Started HAProxy %d for load balancer %s", self._master_pid, self.paths.lb_id)
            return f"haproxy for {self.paths.lb_id} started"

    def _wait_started(self, offset: int) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._forget()
                self.failure = f"HAProxy failed to start (exit code {code}): {self._log_since(offset)}"
                raise HAProxyError(self.failure)
            with contextlib.suppress(master_cli.MasterCLIError):
                table = master_cli.show_proc(self.paths.master_socket, timeout=1.0)
                if table.master_pid == self._process.pid and table.current_workers:
                    return
            time.sleep(POLL_INTERVAL)
        self._terminate(graceful=False)
        self.failure = f"HAProxy did not become ready within {self._timeout:.0f} s"
        raise HAProxyError(self.failure)

    def install(self, text: bytes) -> None:
        """Validate and swap in a new configuration (InvalidConfig leaves the current one)."""
        with self.lock:
            haproxy_files.install_config(self.paths, text, self._cmd)
            self._validated = text

    def reload(self) -> str:
        """Validate, then reload seamlessly; a failed reload restores the running config and raises.

        A file installed through `install` was validated already and is not checked twice.
        """
        with self.lock:
            if not self._alive():
                return self.start()
            if haproxy_files.read_config(self.paths) != self._validated:
                try:
                    haproxy_files.check_config(self._cmd, self.paths.config, self.paths.directory)
                except haproxy_files.InvalidConfig as exc:
                    self._restore_running_config()
                    raise HAProxyError(f"Reload refused, the configuration is invalid: {exc}") from exc
            try:
                before = master_cli.show_proc(self.paths.master_socket)
            except master_cli.MasterCLIError as exc:
                raise HAProxyError(f"Cannot reload, the HAProxy master does not answer: {exc}") from exc
            self._save_server_state()
            offset = self._log_offset()
            try:
                master_cli.send_command(self.paths.master_socket, "reload", timeout=1.0)
            except master_cli.MasterCLIError:
                os.kill(before.master_pid, signal.SIGUSR2)
            error = self._wait_reloaded(before)
            if error is not None:
                self._restore_running_config()
                details = self._log_since(offset)
                LOG.error("Reload of load balancer %s failed: %s %s", self.paths.lb_id, error, details)
                raise HAProxyError(f"Reload failed: {error}\n{details}".strip())
            self._running_config = haproxy_files.read_config(self.paths)
            write_atomically(self.paths.enabled_marker, b"")
            return f"haproxy for {self.paths.lb_id} reloaded"

    def _save_server_state(self) -> None:
        """Carry health, weights and admin states over the reload: the new worker loads
        them (`load-server-state-from-file`), so a member known DOWN does not get traffic
        again until its checks fail, and one drained at runtime stays drained (except
        states the new configuration must reset, see `server_state`)."""
        try:
            state = master_cli.send_command(self.paths.stats_socket, "show servers state", timeout=2.0)
        except master_cli.MasterCLIError as exc:
            LOG.warning("Load balancer %s: server states not saved before the reload: %s",
                        self.paths.lb_id, exc)
            return
        if state.startswith(SERVER_STATE_VERSION):
            new_config = (haproxy_files.read_config(self.paths) or b"").decode(errors="replace")
            write_atomically(self.paths.server_state, server_state.carried(state, new_config).encode())

    def _wait_reloaded(self, before: master_cli.ProcTable) -> str | None:
        """None once a new worker generation serves; else why the reload did not take."""
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if not self._alive():
                self._note_exit()
                return "HAProxy exited during the reload"
            try:
                table = master_cli.show_proc(self.paths.master_socket, timeout=1.0)
            except master_cli.MasterCLIError:
                time.sleep(POLL_INTERVAL)
                continue
            if table.reloads > before.reloads:
                if table.failed_reloads > 0:
                    return "HAProxy kept the previous configuration (the new one failed to load)"
                if table.current_workers - set(before.workers):
                    return None
            time.sleep(POLL_INTERVAL)
        return f"no new HAProxy worker within {self._timeout:.0f} s"

    def _restore_running_config(self) -> None:
        """Put back the file HAProxy is running so that a later restart does not load the bad one."""
        if self._running_config is not None:
            write_atomically(self.paths.config, self._running_config, mode=0o640)

    def stop(self, graceful: bool = True, disable: bool = True) -> None:
        """Stop HAProxy: graceful lets connections finish (soft stop), bounded by the timeout.

        `disable=False` (agent shutdown) keeps the marker that restarts it with the agent.
        """
        with self.lock:
            if disable:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.paths.enabled_marker)
            self._terminate(graceful)
            self.failure = None

    def _terminate(self, graceful: bool) -> None:
        pid = self._master_pid
        if pid is None or not self._alive():
            self._forget()
            return
        workers: set[int] = set()
        with contextlib.suppress(master_cli.MasterCLIError):
            workers = set(master_cli.show_proc(self.paths.master_socket, timeout=1.0).workers)
        steps = [(signal.SIGUSR1, self._timeout)] if graceful else []
        steps += [(signal.SIGTERM, HARD_STOP_TIMEOUT), (signal.SIGKILL, HARD_STOP_TIMEOUT)]
        for sig, wait in steps:
            if not self._alive():
                break
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            self._wait_exit(wait)
        for worker in workers:
            if pid_alive(worker) and self._owns(worker):
                LOG.warning("Killing leftover HAProxy worker %d of %s", worker, self.paths.lb_id)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker, signal.SIGKILL)
        LOG.info("Stopped HAProxy %d of load balancer %s", pid, self.paths.lb_id)
        self._forget()

    def _wait_exit(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._alive() and time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL)

    def _forget(self) -> None:
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=0)
        self._process = None
        self._master_pid = None

    def _note_exit(self) -> None:
        code = self._process.returncode if self._process is not None else None
        self.failure = f"HAProxy exited unexpectedly (exit code {code})"
        LOG.error("%s: load balancer %s", self.failure, self.paths.lb_id)
        self._forget()

    def check(self) -> None:
        """Notice an HAProxy that died on its own (the health manager decides what to do)."""
        if not self.lock.acquire(blocking=False):
            return
        try:
            if self._master_pid is not None and not self._alive():
                self._note_exit()
        finally:
            self.lock.release()
