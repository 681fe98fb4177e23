"""Tasks that record the outcome: status messages applied as a provider's would be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from taskflow import task

from octavia.controller.worker import store

MessageBuilder = Callable[[dict[str, Any]], dict[str, Any]]


class ApplyCompletion(task.Task):
    """Apply the success message built from the LB tree (states.md §4 completion)."""

    def __init__(self, build: MessageBuilder, name: str | None = None) -> None:
        super().__init__(name=name)
        self._build = build

    def execute(self, lb_id: str) -> None:
        store.apply_status(self._build(store.lb_tree(lb_id)))
