"""Structured (key=value) logging with the request id of the request being served."""

from __future__ import annotations

import logging
import sys


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = (
            f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} level={record.levelname} "
            f"logger={record.name}"
        )
        request_id = getattr(record, "request_id", None)
        if request_id:
            base += f" request_id={request_id}"
        text = f"{base} msg={record.getMessage()!r}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "stevedore", "oslo_policy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
