"""Rate limit for log lines caused by the network, so a flood cannot flood the log too."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class LogThrottle:
    """Allows one log line per key per `window` seconds; remembers at most `max_keys` keys."""

    def __init__(
        self, window: float, max_keys: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._last: dict[Hashable, float] = {}
        self._lock = threading.Lock()

    def allow(self, key: Hashable) -> bool:
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.window:
                return False
            if len(self._last) >= self.max_keys:
                self._last = {k: t for k, t in self._last.items() if now - t < self.window}
                if len(self._last) >= self.max_keys:
                    return False
            self._last[key] = now
            return True
