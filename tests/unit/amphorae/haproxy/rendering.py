"""Helpers to read a rendered configuration back: sections and their directive lines."""

from __future__ import annotations

from pathlib import Path

from octavia.amphorae.haproxy.render import render_haproxy_config
from octavia.db import models


def render(lb: models.LoadBalancer, amp_base: Path, **kwargs: object) -> str:
    return render_haproxy_config(lb, kwargs.pop("amphora", None), amp_base=str(amp_base), **kwargs)  # type: ignore[arg-type]


def sections(text: str) -> dict[str, list[str]]:
    """Section header ("global", "frontend <id>", ...) -> its stripped directive lines."""
    result: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            current = result.setdefault(line.strip(), [])
        else:
            assert current is not None, f"directive outside a section: {line!r}"
            current.append(line.strip())
    return result


def frontend(text: str, listener: models.Listener) -> list[str]:
    return sections(text)[f"frontend {listener.id}"]


def backend(text: str, pool: models.Pool, listener: models.Listener) -> list[str]:
    return sections(text)[f"backend {pool.id}:{listener.id}"]


def server(text: str, pool: models.Pool, listener: models.Listener, member: models.Member) -> str:
    lines = [line for line in backend(text, pool, listener) if line.startswith(f"server {member.id} ")]
    assert len(lines) == 1, lines
    return lines[0]
