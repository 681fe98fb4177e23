"""L7 policies and rules as HAProxy ACLs and `http-request` actions, in position order.

Every policy becomes one `http-request` rule, so HAProxy evaluates them in the order of
their `position` whatever their action: REJECT and the redirects end the evaluation
themselves, and REDIRECT_TO_POOL records its choice in `txn.l7_pool`, which every later
policy checks first, so the first matching policy wins as the API promises. The chosen
backend is then selected with one `use_backend` per pool.

Rule values are matched after a `--`, so a value such as `-i` is a pattern, never a flag,
and each rule is a named ACL, so a value such as `}` cannot close an anonymous block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from octavia.amphorae.haproxy.errors import ConfigRenderError
from octavia.amphorae.haproxy.quoting import (
    config_word,
    fetch_with_name,
    log_format_word,
    require_name,
    require_printable,
)
from octavia.common import constants
from octavia.db import models

_MATCH = {
    "REGEX": "reg",
    "STARTS_WITH": "beg",
    "ENDS_WITH": "end",
    "CONTAINS": "sub",
    "EQUAL_TO": "str",
}
# The extension of the last path segment, empty when it has none.
_FILE_EXTENSION = config_word("path,regsub(^.*/,),regsub(^[^.]*$,),regsub(^.*[.],)")
_DN_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9.-]{0,63}")
POOL_CHOSEN_ACL = "l7_pool_chosen"
DEFAULT_REDIRECT_CODE = 302


@dataclass
class L7Rules:
    """What the L7 policies of one listener add to its frontend."""

    acls: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    # (backend index, pool) for REDIRECT_TO_POOL policies, in policy order
    pool_choices: list[tuple[int, models.Pool]] = field(default_factory=list)


def build_l7_rules(policies: list[models.L7Policy]) -> L7Rules:
    """ACLs and actions for the enabled policies that have at least one enabled rule."""
    result = L7Rules()
    for policy in sorted(policies, key=lambda p: p.position):
        rules = [rule for rule in policy.rules if rule.enabled]
        if not policy.enabled or not rules:
            continue
        action = _action(policy, len(result.pool_choices) + 1, result)
        if action is None:
            continue
        terms = []
        for rule in rules:
            name = "rule_" + require_name("L7 rule id", rule.id)
            result.acls.append(f"acl {name} {_rule_acl(rule)}")
            terms.append(("!" if rule.invert else "") + name)
        if result.pool_choices:
            terms.append("!" + POOL_CHOSEN_ACL)
        result.actions.append(f"{action} if {' '.join(terms)}")
    return result


def _action(policy: models.L7Policy, index: int, result: L7Rules) -> str | None:
    code = policy.redirect_http_code or DEFAULT_REDIRECT_CODE
    if code not in constants.REDIRECT_HTTP_CODES:
        raise ConfigRenderError(f"redirect_http_code {code} is not one of {constants.REDIRECT_HTTP_CODES}")
    if policy.action == constants.L7POLICY_ACTION_REJECT:
        return "http-request deny deny_status 403"
    if policy.action == constants.L7POLICY_ACTION_REDIRECT_TO_URL:
        url = require_printable("redirect_url", policy.redirect_url or "")
        return f"http-request redirect location {log_format_word(url)} code {code}"
    if policy.action == constants.L7POLICY_ACTION_REDIRECT_PREFIX:
        prefix = require_printable("redirect_prefix", policy.redirect_prefix or "")
        return f"http-request redirect prefix {log_format_word(prefix)} code {code}"
    if policy.action == constants.L7POLICY_ACTION_REDIRECT_TO_POOL:
        if policy.redirect_pool is None:
            return None
        result.pool_choices.append((index, policy.redirect_pool))
        return f"http-request set-var(txn.l7_pool) int({index})"
    raise ConfigRenderError(f"unknown L7 policy action {policy.action!r}")


def _rule_acl(rule: models.L7Rule) -> str:
    """`<fetch> [-i] -m <method> -- <value>` for one rule (without the `acl <name>` head)."""
    if rule.type == "SSL_CONN_HAS_CERT":
        return "ssl_c_used"
    if rule.type == "SSL_VERIFY_RESULT":
        if not rule.value.isdigit():
            raise ConfigRenderError(f"SSL_VERIFY_RESULT value must be an integer, got {rule.value!r}")
        return f"ssl_c_verify -m int -- {int(rule.value)}"
    method = _MATCH.get(rule.compare_type)
    if method is None:
        raise ConfigRenderError(f"unknown L7 rule compare type {rule.compare_type!r}")
    if rule.type == "HOST_NAME":
        fetch = "req.hdr(host) -i"
    elif rule.type == "PATH":
        fetch = "path"
    elif rule.type == "FILE_TYPE":
        fetch = _FILE_EXTENSION
    elif rule.type == "HEADER":
        fetch = fetch_with_name("req.hdr", "L7 rule key", rule.key)
    elif rule.type == "COOKIE":
        fetch = fetch_with_name("req.cook", "L7 rule key", rule.key)
    elif rule.type == "SSL_DN_FIELD":
        if rule.key is None or not _DN_FIELD.fullmatch(rule.key):
            raise ConfigRenderError(f"SSL_DN_FIELD key must be a DN attribute name, got {rule.key!r}")
        fetch = f"ssl_c_s_dn({rule.key})"
    else:
        raise ConfigRenderError(f"unknown L7 rule type {rule.type!r}")
    return f"{fetch} -m {method} -- {config_word(rule.value)}"
