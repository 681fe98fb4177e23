"""L7 rule rules (validation.md section 7), apart from HTTP.

Reused by the single-call create (octavia/api/v2/lb_graph.py) and by L7 policy creation:

    L7RulePOST
        pydantic schema of one rule: the POST body of /l7policies/{id}/rules and a rule nested
        in an L7 policy spec.
    validate_l7rule(rule: Mapping[str, Any]) -> None
        checks a whole rule given by API names (type, compare_type, key, value, invert);
        raises 400 `Error parsing L7Rule: <reason>`. On PUT pass the merged rule (merged_rule).
    new_l7rule(session, spec: L7RulePOST, policy: models.L7Policy, project_id: str) -> models.L7Rule
        adds the row in PENDING_CREATE/OFFLINE; 409 when the policy already has 50 rules.
    merged_rule(rule: models.L7Rule, changes: Mapping[str, Any]) -> dict[str, Any]
    lock_policy_tree(session, policy: models.L7Policy) -> None
        the lock every rule write takes: policy ACTIVE (409), LB test-and-set (409), listener
        and policy PENDING_UPDATE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from octavia.api.common import types
from octavia.common import constants as c
from octavia.common import exceptions
from octavia.db import models
from octavia.db import repositories as repo

HOST_NAME, PATH, FILE_TYPE, HEADER, COOKIE = "HOST_NAME", "PATH", "FILE_TYPE", "HEADER", "COOKIE"
SSL_CONN_HAS_CERT, SSL_VERIFY_RESULT, SSL_DN_FIELD = "SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT", "SSL_DN_FIELD"
KEYLESS_TYPES = (HOST_NAME, PATH, FILE_TYPE)
REGEX, EQUAL_TO = "REGEX", "EQUAL_TO"
STRING_COMPARES = ("STARTS_WITH", "ENDS_WITH", "CONTAINS", "EQUAL_TO")

# Character classes applied to the whole string (upstream's HTTP header/cookie regexes).
HEADER_NAME_RE = re.compile(r"\A[a-zA-Z0-9!#$%&'*+-.^_`|~]+\Z")
HEADER_VALUE_RE = re.compile(r"\A[a-zA-Z0-9!\"#$%&'()*+,-./:;<=>?@[\]^_`{|}~\\]+\Z")
QUOTED_HEADER_VALUE_RE = re.compile(r"\A\"[a-zA-Z0-9 \t!\"#$%&'()*+,-./:;<=>?@[\]^_`{|}~\\]*\"\Z")
COOKIE_VALUE_RE = re.compile(r"\A[a-zA-Z0-9!#$%&'()*+-./:<=>?@[\]^_`{|}~]+\Z")
HEADER_VALUE = (HEADER_VALUE_RE, QUOTED_HEADER_VALUE_RE)
DN_FIELD_RE = re.compile(r"^([a-zA-Z][A-Za-z0-9-]*)$")
NO_NEWLINE = r"^[^\r\n]*$"


def _single_line(value: str) -> str:
    if len(value) > 255:
        raise PydanticCustomError("max_len", "Value should have a maximum character requirement of 255")
    if "\r" in value or "\n" in value:
        raise PydanticCustomError("pattern", f"Value should match the pattern {NO_NEWLINE}")
    return value


RuleText = Annotated[str, AfterValidator(_single_line)]
RuleType = Annotated[str, types.enum(*c.L7RULE_TYPES)]
CompareType = Annotated[str, types.enum(*c.L7RULE_COMPARE_TYPES)]


class L7RulePOST(types.RequestBody):
    type: RuleType
    compare_type: CompareType
    key: RuleText | None = None
    value: RuleText
    invert: bool | None = False
    admin_state_up: bool | None = True
    project_id: types.Str36 | None = None
    tenant_id: types.Str36 | None = None
    tags: types.Tags | None = None


class L7RulePUT(types.RequestBody):
    type: RuleType | None = None
    compare_type: CompareType | None = None
    key: RuleText | None = None
    value: RuleText | None = None
    invert: bool | None = None
    admin_state_up: bool | None = None
    tags: types.Tags | None = None


class _Invalid(Exception):
    """One reason a rule is invalid, worded as upstream."""


def _invalid_rule(msg: str) -> _Invalid:
    return _Invalid(f"Invalid L7 Rule: {msg}")


def _regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise _Invalid(f"Unable to parse regular expression: {exc}") from None


def _charset(value: str, what: str, *patterns: re.Pattern[str]) -> None:
    if not any(p.match(value) for p in patterns):
        raise _Invalid(f"Invalid characters in {what}")


def _check_value(compare: str | None, value: str, allowed: tuple[str, ...], what: str,
                 *patterns: re.Pattern[str]) -> None:
    if compare == REGEX:
        _regex(value)
    elif compare in allowed:
        _charset(value, what, *patterns)
    else:
        raise _invalid_rule("invalid comparison type for rule type")


def _check_ssl(kind: str, compare: str | None, key: str | None, value: str) -> None:
    msg = None
    if kind in (SSL_CONN_HAS_CERT, SSL_VERIFY_RESULT):
        if key:
            msg = f'L7rule type {kind} does not use the "key" field.'
        elif kind == SSL_CONN_HAS_CERT and value.lower() != "true":
            msg = f"L7rule value {value} is not a boolean True string."
        elif kind == SSL_VERIFY_RESULT and not (value.isascii() and value.isdigit()):
            msg = f"L7rule type {kind} needs a int value, which is >= 0"
        elif compare != EQUAL_TO:
            msg = f"L7rule type {kind} only supports the {EQUAL_TO} compare type."
    else:
        if compare == REGEX:
            _regex(value)
        if not key or not value:
            msg = f"L7rule type {kind} needs to specify a key and a value."
        elif not DN_FIELD_RE.match(key):
            msg = "Invalid L7rule distinguished name field."
        elif compare not in (REGEX, *STRING_COMPARES):
            msg = "invalid comparison type for rule type"
    if msg:
        raise _invalid_rule(msg)


def _check(rule: Mapping[str, Any]) -> None:
    kind, compare = rule.get("type"), rule.get("compare_type")
    key, value = rule.get("key"), rule.get("value")
    if not value:
        raise _invalid_rule("L7 rule type requires a value")
    if kind in (HEADER, COOKIE):
        if not key:
            raise _invalid_rule("L7 rule type requires a key")
        _charset(key, "key", HEADER_NAME_RE)
        if kind == HEADER:
            _check_value(compare, value, STRING_COMPARES, "header value", *HEADER_VALUE)
        else:
            _check_value(compare, value, STRING_COMPARES, "cookie value", COOKIE_VALUE_RE)
    elif kind in (HOST_NAME, PATH):
        _check_value(compare, value, STRING_COMPARES, "comparison value", *HEADER_VALUE)
    elif kind == FILE_TYPE:
        _check_value(compare, value, (EQUAL_TO,), "comparison value", *HEADER_VALUE)
    elif kind in (SSL_CONN_HAS_CERT, SSL_VERIFY_RESULT, SSL_DN_FIELD):
        _check_ssl(kind, compare, key, value)
    else:
        raise _invalid_rule("invalid rule type")


def validate_l7rule(rule: Mapping[str, Any]) -> None:
    try:
        _check(rule)
    except _Invalid as exc:
        raise exceptions.BadRequest(f"Error parsing L7Rule: {exc}") from None


def merged_rule(rule: models.L7Rule, changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = {"type": rule.type, "compare_type": rule.compare_type, "key": rule.key,
              "value": rule.value, "invert": rule.invert}
    merged.update({k: v for k, v in changes.items() if k in merged})
    return merged


def check_room(session: Session, policy: models.L7Policy, adding: int = 1) -> None:
    count = session.execute(
        select(func.count()).select_from(models.L7Rule).where(models.L7Rule.l7policy_id == policy.id)
    ).scalar_one()
    if count + adding > c.MAX_L7RULES_PER_POLICY:
        raise exceptions.Conflict(f"Too many rules on L7 policy {policy.id}")


def new_l7rule(
    session: Session, spec: L7RulePOST, policy: models.L7Policy, project_id: str | None
) -> models.L7Rule:
    check_room(session, policy)
    rule = models.L7Rule(
        id=models.new_id(), project_id=project_id, l7policy_id=policy.id,
        type=spec.type, compare_type=spec.compare_type, key=spec.key, value=spec.value,
        invert=bool(spec.invert), enabled=bool(spec.admin_state_up),
        provisioning_status=c.PENDING_CREATE, operating_status=c.OFFLINE,
    )
    session.add(rule)
    session.flush()
    repo.set_tags(session, rule.id, types.dedupe(spec.tags) or [])
    return rule


def apply_update(session: Session, rule: models.L7Rule, changes: Mapping[str, Any]) -> None:
    """`invert`/`admin_state_up` null mean false; a key-less type drops the stored key."""
    for name, value in changes.items():
        if name == "invert":
            rule.invert = bool(value)
        elif name == "admin_state_up":
            rule.enabled = bool(value)
        elif name == "tags":
            repo.set_tags(session, rule.id, types.dedupe(value))
        elif name in ("type", "compare_type", "key", "value"):
            setattr(rule, name, value)
    if rule.type in KEYLESS_TYPES:
        rule.key = None
    repo.set_status(session, rule, c.PENDING_UPDATE)
    session.flush()


def lock_policy_tree(session: Session, policy: models.L7Policy) -> None:
    """Policy must be ACTIVE (409), then the LB test-and-set (409); the policy and its
    listener go PENDING_UPDATE with the LB."""
    repo.require_active(policy, "L7Policy")
    repo.lock_load_balancer(session, policy.listener.load_balancer_id)
    session.refresh(policy, ["provisioning_status"])
    repo.require_active(policy, "L7Policy")
    repo.set_status(session, policy.listener, c.PENDING_UPDATE)
    repo.set_status(session, policy, c.PENDING_UPDATE)
