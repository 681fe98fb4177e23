"""Pool rules that need no HTTP: the listener/pool protocol matrix, session persistence,
backend TLS, row creation and updates, and which listeners use a pool.

Create checks work on a plain dict of the request (API field names, schema defaults
applied), so the standalone POST and the fully populated LB create share them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from octavia.api.common import types
from octavia.common import constants as c
from octavia.common import exceptions
from octavia.common.config import CONF
from octavia.db import models
from octavia.db import repositories as repo
from octavia.domain import tls

L4_ONLY = (c.PROTOCOL_UDP, c.PROTOCOL_SCTP)
REFERENCE_KEYS = frozenset({"name", "admin_state_up", "tls_enabled"})
SP_KEYS = ("type", "cookie_name", "persistence_timeout", "persistence_granularity")
# Control characters, space and the RFC 6265 separators may not appear in a cookie name, nor
# anything outside ASCII: HAProxy's configuration takes cookie names as HTTP tokens (RFC 9110).
_BAD_COOKIE_CHARS = re.compile(r'[\x00-\x20"(),/:;<=>?@\[\\\]{}\x7f-\U0010ffff]')


def _fail(detail: str) -> exceptions.ValidationException:
    return exceptions.ValidationException(detail=detail)


def is_full_spec(pool: Mapping[str, Any]) -> bool:
    """In a fully populated LB create a pool object with only its name (and fields that
    have defaults anyway) refers to a pool defined elsewhere in the request."""
    return bool(set(pool) - REFERENCE_KEYS)


def check_listener_protocol(listener_protocol: str, pool_protocol: str) -> None:
    """A listener may only send traffic to pools of a compatible protocol (validation.md 2.1)."""
    if listener_protocol == c.PROTOCOL_PROMETHEUS:
        raise _fail("Protocol PROMETHEUS listeners cannot have child objects.")
    if pool_protocol not in c.VALID_LISTENER_POOL_PROTOCOLS.get(listener_protocol, ()):
        raise _fail(f"The pool protocol '{pool_protocol}' is invalid while the listener protocol "
                    f"is '{listener_protocol}'.")


def check_session_persistence(protocol: str, sp: Mapping[str, Any] | None) -> None:
    if not sp:
        return
    kind = sp.get("type")
    cookie = sp.get("cookie_name")
    if protocol in L4_ONLY:
        if cookie:
            raise _fail("Cookie names are not supported for UDP/SCTP pools.")
        if kind in (c.SESSION_PERSISTENCE_HTTP_COOKIE, c.SESSION_PERSISTENCE_APP_COOKIE):
            raise _fail(f"Session persistence of type {kind} is not supported for UDP/SCTP protocol pools.")
    elif sp.get("persistence_timeout") or sp.get("persistence_granularity"):
        raise _fail("persistence_timeout and persistence_granularity is only for UDP and SCTP "
                    "protocol pools.")
    if kind is None:
        raise _fail("Invalid session_persistence provided.")
    if cookie:
        if kind != c.SESSION_PERSISTENCE_APP_COOKIE:
            raise _fail('Field "cookie_name" can only be specified with session persistence of type '
                        '"APP_COOKIE".')
        if _BAD_COOKIE_CHARS.search(cookie):
            raise _fail('Supplied "cookie_name" is invalid.')
    elif kind == c.SESSION_PERSISTENCE_APP_COOKIE:
        raise _fail('Field "cookie_name" must be specified when using the "APP_COOKIE" session '
                    'persistence type.')


def stored_session_persistence(sp: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The four keys upstream renders; `None` or `{}` means no persistence."""
    if not sp:
        return None
    return {k: sp.get(k) for k in SP_KEYS}


def merge_session_persistence(stored: Mapping[str, Any] | None, given: Mapping[str, Any] | None
                              ) -> dict[str, Any] | None:
    """PUT semantics: the object replaces the stored one, but an omitted `type` is kept."""
    if not given:
        return None
    merged = {k: given.get(k) for k in SP_KEYS}
    if merged["type"] is None and stored:
        merged["type"] = stored.get("type")
    return merged


def check_create(spec: Mapping[str, Any]) -> None:
    """Rules of a new pool that need no database look-up (all 400s)."""
    check_session_persistence(spec["protocol"], spec.get("session_persistence"))
    if spec.get("crl_container_ref") and not spec.get("ca_tls_container_ref"):
        raise _fail("A CA certificate reference is required to specify a revocation list.")
    tls.check_ciphers(spec.get("tls_ciphers"))
    if spec.get("tls_enabled"):
        tls.check_versions(spec.get("tls_versions"))
        tls.check_alpn(spec.get("alpn_protocols"))


def check_certificates(values: Mapping[str, Any]) -> None:
    """Fetch the member-side client certificate, CA and CRL the pool names."""
    tls.check_server_refs([values.get("tls_container_ref")])
    if values.get("ca_tls_container_ref"):
        tls.check_ca_and_crl(values["ca_tls_container_ref"], values.get("crl_container_ref"))


def new_pool(session: Session, lb: models.LoadBalancer, spec: Mapping[str, Any]) -> models.Pool:
    """The row of a validated create request: TLS defaults when `tls_enabled`, PENDING_CREATE."""
    api = CONF.api_settings
    tls_on = bool(spec.get("tls_enabled"))

    def tls_default(key: str, default: Any) -> Any:
        value = spec.get(key)
        if value is None and tls_on:
            return list(default) if isinstance(default, list) else default
        return value

    pool = models.Pool(
        id=models.new_id(),
        project_id=lb.project_id,
        load_balancer_id=lb.id,
        name=spec.get("name"),
        description=spec.get("description"),
        protocol=spec["protocol"],
        lb_algorithm=spec["lb_algorithm"],
        enabled=bool(spec.get("admin_state_up")),
        session_persistence=stored_session_persistence(spec.get("session_persistence")),
        tls_enabled=tls_on,
        tls_container_ref=spec.get("tls_container_ref"),
        ca_tls_container_ref=spec.get("ca_tls_container_ref"),
        crl_container_ref=spec.get("crl_container_ref"),
        tls_ciphers=tls_default("tls_ciphers", api.default_pool_ciphers),
        tls_versions=tls_default("tls_versions", api.default_pool_tls_versions),
        alpn_protocols=tls_default("alpn_protocols", api.default_pool_alpn_protocols),
        provisioning_status=c.PENDING_CREATE,
        operating_status=c.OFFLINE,
    )
    session.add(pool)
    session.flush()
    repo.set_tags(session, pool.id, types.dedupe(spec.get("tags")) or [])
    return pool


def _merged(pool: models.Pool, changes: Mapping[str, Any], key: str) -> Any:
    return changes[key] if key in changes else getattr(pool, key)


def check_update(pool: models.Pool, changes: Mapping[str, Any]) -> None:
    """Rules of a PUT judged against the stored pool (all 400s)."""
    if "lb_algorithm" in changes and changes["lb_algorithm"] is None:
        raise exceptions.InvalidOption(value=None, option="lb_algorithm")
    if "session_persistence" in changes:
        check_session_persistence(
            pool.protocol, merge_session_persistence(pool.session_persistence, changes["session_persistence"])
        )
    crl = _merged(pool, changes, "crl_container_ref")
    if "ca_tls_container_ref" in changes and not changes["ca_tls_container_ref"]:
        if crl and pool.ca_tls_container_ref:
            raise _fail("A CA reference cannot be removed when a certificate revocation list is present.")
        if crl:
            raise _fail("A CA reference is required to specify a certificate revocation list.")
    elif crl and not _merged(pool, changes, "ca_tls_container_ref"):
        raise _fail("A CA reference is required to specify a certificate revocation list.")
    tls.check_ciphers(changes.get("tls_ciphers"))
    if "tls_versions" in changes:
        tls.check_versions(changes["tls_versions"])
    if "alpn_protocols" in changes:
        tls.check_alpn(changes["alpn_protocols"])


def check_update_certificates(pool: models.Pool, changes: Mapping[str, Any]) -> None:
    tls.check_server_refs([changes.get("tls_container_ref")])
    if "ca_tls_container_ref" in changes or "crl_container_ref" in changes:
        ca = _merged(pool, changes, "ca_tls_container_ref")
        if ca:
            tls.check_ca_and_crl(ca, _merged(pool, changes, "crl_container_ref"))


def apply_update(session: Session, pool: models.Pool, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Write a PUT; `null` resets ciphers/versions to config defaults. Returns the values written."""
    api = CONF.api_settings
    resets: dict[str, Any] = {
        "tls_ciphers": api.default_pool_ciphers,
        "tls_versions": list(api.default_pool_tls_versions),
    }
    written: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "tags":
            repo.set_tags(session, pool.id, types.dedupe(value))
            continue
        if key == "admin_state_up":
            pool.enabled = written[key] = bool(value)
            continue
        if key == "tls_enabled":
            value = bool(value)
        elif key == "session_persistence":
            value = stored_session_persistence(merge_session_persistence(pool.session_persistence, value))
        elif value is None and key in resets:
            value = resets[key]
        setattr(pool, key, value)
        written[key] = value
    repo.set_status(session, pool, c.PENDING_UPDATE)
    session.flush()
    return written


def listener_ids_by_pool(session: Session, pool_ids: Iterable[str]) -> dict[str, list[str]]:
    """pool id -> listeners using it: default-pool listeners (oldest first), then listeners
    of enabled REDIRECT_TO_POOL policies that have at least one rule. Two queries for any
    number of pools."""
    ids = list(pool_ids)
    out: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    L, P = models.Listener, models.L7Policy
    defaults = session.execute(
        select(L.default_pool_id, L.id).where(L.default_pool_id.in_(ids)).order_by(L.created_at, L.id)
    )
    redirects = session.execute(
        select(P.redirect_pool_id, P.listener_id)
        .where(P.redirect_pool_id.in_(ids), P.enabled.is_(True),
               P.action == c.L7POLICY_ACTION_REDIRECT_TO_POOL,
               exists().where(models.L7Rule.l7policy_id == P.id))
        .order_by(P.position, P.created_at, P.id)
    )
    for pool_id, listener_id in [*defaults, *redirects]:
        if listener_id not in out[pool_id]:
            out[pool_id].append(listener_id)
    return out


def listeners_of_pool(session: Session, pool_id: str) -> list[models.Listener]:
    ids = listener_ids_by_pool(session, [pool_id])[pool_id]
    if not ids:
        return []
    rows = session.execute(select(models.Listener).where(models.Listener.id.in_(ids))).scalars()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids]


def check_not_redirect_target(session: Session, pool: models.Pool) -> None:
    """A pool an L7 policy redirects to cannot be deleted (409)."""
    policy_id = session.execute(
        select(models.L7Policy.id).where(models.L7Policy.redirect_pool_id == pool.id).limit(1)
    ).scalar_one_or_none()
    if policy_id is not None:
        raise exceptions.Conflict(f"Pool {pool.id} is in use by L7 policy {policy_id}")
