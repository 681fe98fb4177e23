"""The amphora's keepalived (VRRP only), supervised like its HAProxy.

keepalived runs in the foreground (`-n`) in its own session, so it survives an agent
restart and is adopted again from its pid file. Its parent forks the VRRP child that
owns the VIP; a clean stop (SIGTERM to the parent) makes the child send a priority-0
advertisement, so the peer takes the VIP over within about one advert interval.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time

from octavia.amphorae.agent.haproxy_process import pid_alive
from octavia.amphorae.agent.layout import write_atomically
from octavia.amphorae.keepalived.layout import VrrpPaths

LOG = logging.getLogger(__name__)

KEEPALIVED_CMD = "/usr/sbin/keepalived"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
VALIDATE_TIMEOUT = 30.0
POLL_INTERVAL = 0.01
MAX_LOG_BYTES = 1 << 20


class KeepalivedError(RuntimeError):
    """keepalived did not start, reload or stop as asked; the message says why."""


class InvalidKeepalivedConfig(ValueError):
    """`keepalived -t` refused the configuration (its messages are in the text)."""


def _read_pid(path: str) -> int | None:
    try:
        with open(path) as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


class KeepalivedProcess:
    """Install, start, reload, stop and watch one amphora's keepalived."""

    def __init__(self, paths: VrrpPaths, cmd: str = KEEPALIVED_CMD) -> None:
        self.paths = paths
        self.cmd = cmd
        self._process: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self.lock = threading.RLock()

    # -- state -------------------------------------------------------------------

    def _owns(self, pid: int) -> bool:
        """Guards every kill: the process runs this amphora's keepalived.conf."""
        return os.path.realpath(self.paths.config).encode() in _cmdline(pid).split(b"\0")

    @property
    def pid(self) -> int | None:
        """The live parent's pid (reaps it when it was our child and exited)."""
        if self._process is not None:
            if self._process.poll() is None:
                return self._process.pid
            self._process = None
            self._pid = None
        if self._pid is not None and pid_alive(self._pid):
            return self._pid
        self._pid = None
        return None

    def running(self) -> bool:
        return self.pid is not None

    def vrrp_child_pid(self) -> int | None:
        pid = _read_pid(self.paths.vrrp_pid_file)
        return pid if pid is not None and pid_alive(pid) and self._owns(pid) else None

    def wanted(self) -> bool:
        return os.path.exists(self.paths.enabled_marker)

    def has_config(self) -> bool:
        return os.path.isfile(self.paths.config)

    # -- configuration -------------------------------------------------------------

    def validate(self, text: bytes) -> None:
        """`keepalived -t` on a copy next to the real file (same directory, so the check
        script's path and permissions are what keepalived will see)."""
        os.makedirs(self.paths.directory, mode=0o755, exist_ok=True)
        fd, candidate = tempfile.mkstemp(dir=self.paths.directory, prefix=".check-", suffix=".conf")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text)
            result = subprocess.run([self.cmd, "-t", "-f", candidate], capture_output=True,
                                    timeout=VALIDATE_TIMEOUT, check=False)
        except FileNotFoundError as exc:
            raise KeepalivedError(f"{self.cmd} is not installed") from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(candidate)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")
            messages = output.replace(candidate, "keepalived.conf").strip()
            raise InvalidKeepalivedConfig(f"keepalived -t exited with {result.returncode}: {messages}")

    def install(self, text: bytes) -> None:
        with self.lock:
            self.validate(text)
            write_atomically(self.paths.config, text, mode=0o640)

    # -- lifecycle -------------------------------------------------------------------

    def adopt(self) -> bool:
        """Take over a keepalived left running by a previous agent process."""
        with self.lock:
            pid = _read_pid(self.paths.pid_file)
            if pid is None or not pid_alive(pid) or not self._owns(pid):
                return False
            self._process, self._pid = None, pid
            LOG.info("Adopted running keepalived %d", pid)
            return True

    def start(self) -> str:
        with self.lock:
            if self.running():
                write_atomically(self.paths.enabled_marker, b"")
                return "keepalived is already running"
            if not self.has_config():
                raise KeepalivedError("No keepalived configuration was uploaded")
            self._truncate_log()
            for stale in (self.paths.pid_file, self.paths.vrrp_pid_file):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(stale)
            env = {key: value for key, value in os.environ.items() if key != "NOTIFY_SOCKET"}
            with open(self.paths.log, "ab") as log:
                self._process = subprocess.Popen(
                    [self.cmd, "--dont-fork", "--log-console", "--log-detail", "--vrrp",
                     "-f", os.path.realpath(self.paths.config), "-p", self.paths.pid_file,
                     "-r", self.paths.vrrp_pid_file, "-c", self.paths.checkers_pid_file],
                    cwd=self.paths.directory, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                    start_new_session=True,
                )
            self._pid = self._process.pid
            self._wait_started()
            write_atomically(self.paths.enabled_marker, b"")
            LOG.info("Started keepalived %d", self._pid)
            return "keepalived started"

    def _truncate_log(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if os.path.getsize(self.paths.log) > MAX_LOG_BYTES:
                os.truncate(self.paths.log, 0)

    def _wait_started(self) -> None:
        """Until the VRRP child has written its pid (it then runs the instance)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running():
                raise KeepalivedError(f"keepalived exited at start: {self.log_tail()}")
            if self.vrrp_child_pid() is not None:
                return
            time.sleep(POLL_INTERVAL)
        self.halt()
        raise KeepalivedError(f"keepalived did not start its VRRP process within {START_TIMEOUT:.0f} s")

    def reload(self) -> str:
        """Re-read the configuration (SIGHUP): a MASTER stays MASTER when only its peers or
        priority changed. Starts keepalived when it is not running."""
        with self.lock:
            pid = self.pid
            if pid is None:
                return self.start()
            os.kill(pid, signal.SIGHUP)
            write_atomically(self.paths.enabled_marker, b"")
            return "keepalived reloaded"

    def stop(self) -> str:
        """Stop for good (until the next start): the peer takes the VIP over."""
        with self.lock:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.paths.enabled_marker)
            self.halt()
            return "keepalived stopped"

    def halt(self) -> None:
        """Stop cleanly (priority-0 advertisement) but keep it wanted, so that it comes back
        with the agent or when its HAProxy is back."""
        with self.lock:
            child = self.vrrp_child_pid()
            pid = self.pid
            if pid is not None:
                self._signal_and_wait(pid, signal.SIGTERM, STOP_TIMEOUT)
                if self.pid is not None:
                    LOG.warning("keepalived %d ignored SIGTERM; killing it", pid)
                    self._signal_and_wait(pid, signal.SIGKILL, STOP_TIMEOUT)
            if child is not None and pid_alive(child) and self._owns(child):
                self._signal_and_wait(child, signal.SIGTERM, STOP_TIMEOUT)
            self._process, self._pid = None, None

    def _signal_and_wait(self, pid: int, sig: signal.Signals, timeout: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alive = self.pid is not None if pid == self._pid else pid_alive(pid)
            if not alive:
                return
            time.sleep(POLL_INTERVAL)

    def log_tail(self, lines: int = 15) -> str:
        try:
            with open(self.paths.log, "rb") as handle:
                handle.seek(max(0, os.path.getsize(self.paths.log) - 8192))
                text = handle.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
