"""UDP endpoint of the health manager: verify heartbeats cheaply, apply good ones on a thread pool.

Everything a datagram can do wrong ends as a counted, rate-limited drop; the
receive loop itself only ever stops when asked to.
"""

from __future__ import annotations

import concurrent.futures
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable

from octavia.controller.health import heartbeat_packet as hb
from octavia.controller.health.log_throttle import LogThrottle

LOG = logging.getLogger(__name__)

RECV_BUFFER = 65536
MAX_BACKLOG = 1024


class ReplayGuard:
    """Remembers the newest sequence number per amphora; older or equal ones are replays.

    Entries are forgotten after `2 * max_skew`: by then any replay of what they
    guarded is refused as stale anyway.
    """

    def __init__(self, max_skew: float) -> None:
        self.max_skew = max_skew
        self._newest: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def check_and_record(self, heartbeat: hb.Heartbeat, now: float) -> None:
        with self._lock:
            if now >= self._next_prune:
                horizon = now - 2 * self.max_skew
                self._newest = {k: v for k, v in self._newest.items() if v[1] >= horizon}
                self._next_prune = now + self.max_skew
            seen = self._newest.get(heartbeat.amphora_id)
            if seen is not None and heartbeat.seq <= seen[0]:
                raise hb.HeartbeatRejected(
                    hb.DropReason.REPLAYED, f"seq {heartbeat.seq} not newer than {seen[0]}"
                )
            self._newest[heartbeat.amphora_id] = (heartbeat.seq, now)


class HeartbeatReceiver:
    """Binds `bind_ip:bind_port` (port 0: any free one; see `address`) and serves until `stop()`."""

    def __init__(
        self,
        key: bytes,
        bind_ip: str,
        bind_port: int,
        process: Callable[[hb.Heartbeat], None],
        *,
        max_skew: float = 30.0,
        log_window: float = 10.0,
        workers: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._process = process
        self._max_skew = max_skew
        self._clock = clock
        self._replays = ReplayGuard(max_skew)
        self._log_throttle = LogThrottle(log_window)
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._backlog = threading.BoundedSemaphore(MAX_BACKLOG)
        self._stop = threading.Event()
        family = socket.AF_INET6 if ":" in bind_ip else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._sock.bind((bind_ip, bind_port))
        self._sock.settimeout(0.2)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hb-apply")
        self._thread = threading.Thread(target=self._serve, name="heartbeat-receiver", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def counters(self) -> dict[str, int]:
        """received, accepted (passed verification), applied (written), errors, dropped_<reason>."""
        with self._counts_lock:
            return dict(self._counts)

    def start(self) -> HeartbeatReceiver:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)
        self._sock.close()

    def _count(self, name: str) -> None:
        with self._counts_lock:
            self._counts[name] += 1

    def _drop(self, source: str, exc: hb.HeartbeatRejected) -> None:
        self._count(f"dropped_{exc.reason.value}")
        if self._log_throttle.allow(source):
            LOG.warning("Dropped heartbeat from %s: %s", source, exc)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(RECV_BUFFER)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                LOG.exception("Heartbeat socket error")
                time.sleep(0.1)
                continue
            self._count("received")
            try:
                self._accept(data, str(peer[0]))
            except Exception:  # a bug here must not end the receiver
                self._count("errors")
                LOG.exception("Unexpected error handling a heartbeat from %s", peer[0])

    def _accept(self, data: bytes, source: str) -> None:
        try:
            heartbeat = hb.decode(data, self._key)
            now = self._clock()
            hb.check_freshness(heartbeat, now, self._max_skew)
            self._replays.check_and_record(heartbeat, now)
        except hb.HeartbeatRejected as exc:
            self._drop(source, exc)
            return
        self._count("accepted")
        if not self._backlog.acquire(blocking=False):
            self._count("dropped_backlog")
            if self._log_throttle.allow(("backlog", source)):
                LOG.warning("Heartbeat backlog full (%d); dropping from %s", MAX_BACKLOG, source)
            return
        self._pool.submit(self._apply, heartbeat, source)

    def _apply(self, heartbeat: hb.Heartbeat, source: str) -> None:
        try:
            self._process(heartbeat)
            self._count("applied")
        except hb.HeartbeatRejected as exc:
            self._drop(source, exc)
        except Exception:
            self._count("errors")
            if self._log_throttle.allow(("error", source)):
                LOG.exception("Could not apply heartbeat of amphora %s", heartbeat.amphora_id)
        finally:
            self._backlog.release()
