"""A schemathesis check for the cross-project fuzz: no response gives away the other project.

Loaded by schemathesis (SCHEMATHESIS_HOOKS) in its own process; the other project's
object ids come in OCTAVIA_FUZZ_FOREIGN_IDS. A response fails the check when it is a
success that carries one of those ids (an object shown, listed, created under or
changed), or a success of a write whose path names one (a foreign object updated or
deleted). Error bodies may echo an id the request itself sent ("... not found").
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

FOREIGN = frozenset(i for i in os.environ.get("OCTAVIA_FUZZ_FOREIGN_IDS", "").split(",") if i)
WRITES = ("POST", "PUT", "DELETE")


@schemathesis.check
def no_foreign_objects(ctx: Any, response: Any, case: Any) -> None:
    if not 200 <= response.status_code < 300:
        return
    text = response.content.decode("utf-8", "replace")
    shown = sorted(i for i in FOREIGN if i in text)
    if shown:
        raise AssertionError(f"a {response.status_code} response shows another project's objects: {shown}")
    if case.method.upper() in WRITES:
        path = case.formatted_path
        touched = sorted(i for i in FOREIGN if i in path)
        if touched:
            raise AssertionError(f"{case.method} {path} succeeded on another project's object")
