"""The clustered layout on one machine: `octavia-api`, two `octavia-worker`s, an
`octavia-health-manager` and `octavia-housekeeping` as separate processes sharing a
PostgreSQL database and a RabbitMQ broker (oslo.messaging's rabbit driver), with local
amphorae. Each process logs to its own file under the root.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

from tests.integration.e2e.harness import API_START_TIMEOUT_S, STOP_TIMEOUT_S, AllInOne, wait_for

RABBIT_URL = os.environ.get("OCTAVIA_TEST_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
WORKERS = 2


def rabbitmq_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return True
    except OSError:
        return False


class Cluster(AllInOne):
    """`AllInOne`'s client side and clean-up over one process per role."""

    def __init__(self, root: Path, mode: str, database_url: str) -> None:
        super().__init__(root, mode)
        self.database_url = database_url
        self.topic = f"octavia_prov_test_{uuid.uuid4().hex[:8]}"
        self.log_path = root / "api.log"
        self.workers: list[subprocess.Popen[bytes]] = []
        self.daemons: list[subprocess.Popen[bytes]] = []

    def write_config(self) -> Path:
        path = super().write_config()
        with open(path, "a") as conf:
            conf.write(
                "[DEFAULT]\n"
                f"transport_url = {RABBIT_URL}\n"
                "[oslo_messaging]\n"
                f"topic = {self.topic}\n"
                "[database]\n"
                f"connection = {self.database_url}\n"
            )
        return path

    def _spawn(self, module: str, log_name: str, conf: Path) -> subprocess.Popen[bytes]:
        with open(self.root / log_name, "ab") as log:
            return subprocess.Popen([sys.executable, "-m", module, "--config-file", str(conf)],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=str(self.root))

    def start(self) -> None:
        conf = self.write_config()
        manage = [sys.executable, "-m", "octavia.cmd.db_manage", "--config-file", str(conf)]
        subprocess.run([*manage, "upgrade", "head"], check=True, capture_output=True, cwd=str(self.root))
        self.process = self._spawn("octavia.cmd.api", "api.log", conf)
        if not wait_for(self._api_answers, API_START_TIMEOUT_S, interval=0.1):
            raise RuntimeError(f"octavia-api never answered:\n{self.log_tail()}")
        numbers = range(1, WORKERS + 1)
        self.workers = [self._spawn("octavia.cmd.worker", f"worker-{i}.log", conf) for i in numbers]
        self.daemons = [self._spawn("octavia.cmd.health_manager", "health-manager.log", conf),
                        self._spawn("octavia.cmd.housekeeping", "housekeeping.log", conf)]
        # A cast published before any worker declared the topic's queue is dropped by the
        # broker: wait until every worker consumes (and the health manager listens).
        ready = [(f"worker-{i}.log", "Controller worker consuming topic") for i in numbers]
        ready.append(("health-manager.log", "Health manager receiving heartbeats"))
        for log_name, line in ready:
            if not wait_for(lambda name=log_name, text=line: self.said(name, text), API_START_TIMEOUT_S):
                raise RuntimeError(f"{log_name} never said {line!r}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of every process's log, for a failure's message."""
        parts = []
        for log in sorted(self.root.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(parts)

    def _read(self, log_name: str) -> str:
        path = self.root / log_name
        return path.read_text(errors="replace") if path.exists() else ""

    def said(self, log_name: str, line: str) -> bool:
        return line in self._read(log_name)

    def worker_log(self, index: int) -> str:
        return self._read(f"worker-{index}.log")

    def kill_worker(self, index: int) -> None:
        """SIGKILL, as a crash: the other worker must carry on alone."""
        worker = self.workers[index - 1]
        worker.kill()
        worker.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> None:
        for process in [*self.daemons, *self.workers, self.process]:
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
        for process in [*self.daemons, *self.workers, self.process]:
            if process is None:
                continue
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
