"""Health monitor rules (validation.md sections 2.3 and 5), apart from HTTP.

Reused by the single-call create (octavia/api/v2/lb_graph.py):

    HealthMonitorSingleCreate
        pydantic schema of an HM nested in a pool spec (no `pool_id`).
    HealthMonitorPOST(HealthMonitorSingleCreate)
        the POST /healthmonitors body: adds the required `pool_id` (null -> 404 in the route).
    validate_healthmonitor(spec: HealthMonitorSingleCreate, pool_protocol: str) -> dict[str, Any]
        every create rule; returns the column values (defaults filled, API names mapped:
        max_retries -> rise_threshold, max_retries_down -> fall_threshold, admin_state_up -> enabled).
    new_health_monitor(session, values: dict, pool: models.Pool, project_id: str) -> models.HealthMonitor
        adds the row in PENDING_CREATE/OFFLINE; 409 when the pool already has one.
    validate_healthmonitor_update(hm: models.HealthMonitor, changes: dict, pool_protocol: str)
            -> dict[str, Any]
        the PUT rules and null semantics; returns the column values to write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import rfc3986
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from octavia.api.common import types
from octavia.common import constants as c
from octavia.common import exceptions
from octavia.common.config import CONF
from octavia.db import models
from octavia.db import repositories as repo

HTTP_TYPES = (c.HEALTH_MONITOR_HTTP, c.HEALTH_MONITOR_HTTPS)
HTTP_ONLY_FIELDS = ("http_method", "url_path", "expected_codes", "http_version", "domain_name")
UDP_POOL_TYPES = (c.HEALTH_MONITOR_UDP_CONNECT, c.HEALTH_MONITOR_SCTP, c.HEALTH_MONITOR_TCP,
                  c.HEALTH_MONITOR_HTTP)
UDP_ONLY_TYPES = (c.HEALTH_MONITOR_UDP_CONNECT, c.HEALTH_MONITOR_SCTP)
L4_POOLS = (c.PROTOCOL_UDP, c.PROTOCOL_SCTP)
EXPECTED_CODES_RE = r"^(\d{3}(\s*,\s*\d{3})*)$|^(\d{3}-\d{3})$"
DOMAIN_NAME_RE = r"^(?=.{1,253}\.?$)(?:(?!-|[^.]+_)[A-Za-z0-9-_]{1,63}(?<!-)(?:\.|$))+$"
DEFAULTS = {"http_method": "GET", "url_path": "/", "expected_codes": "200"}
DEFAULT_MAX_RETRIES_DOWN = 3
REQUIRED_ON_PUT = ("delay", "timeout", "max_retries")
_WHITESPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def _url_path(value: str) -> str:
    """An RFC 3986 path starting with '/': no scheme, host, user info, port or whitespace."""
    bad = PydanticCustomError("url_path", "Value must be a valid URL Path string")
    if _WHITESPACE_OR_CONTROL.search(value) or len(value) > 2048:
        raise bad
    try:
        parsed = rfc3986.urlparse(rfc3986.normalize_uri(value))
    except Exception:
        raise bad from None
    if parsed.scheme or parsed.userinfo or parsed.host or parsed.port:
        raise bad
    if not (parsed.path or "").startswith("/"):
        raise bad
    return value


def _pattern(regex: str, min_len: int, max_len: int) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if len(value) < min_len:
            raise PydanticCustomError(
                "min_len", f"Value should have a minimum character requirement of {min_len}")
        if len(value) > max_len:
            raise PydanticCustomError(
                "max_len", f"Value should have a maximum character requirement of {max_len}")
        if not compiled.match(value):
            raise PydanticCustomError("pattern", f"Value should match the pattern {regex}")
        return value

    return AfterValidator(check)


def _http_version(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or number not in (1.0, 1.1):
        raise PydanticCustomError("enum", "Value should be one of: 1.0, 1.1")
    return number


UrlPath = Annotated[str, AfterValidator(_url_path)]
ExpectedCodes = Annotated[str, _pattern(EXPECTED_CODES_RE, 1, 64)]
DomainName = Annotated[str, _pattern(DOMAIN_NAME_RE, 1, 255)]
HttpVersion = Annotated[float, BeforeValidator(_http_version)]
Seconds = Annotated[types.Int, types.int_bounds(0, None)]
Retries = Annotated[types.Int, types.int_bounds(1, 10)]
HmType = Annotated[str, types.enum(*c.HEALTH_MONITOR_TYPES)]
HttpMethod = Annotated[str, types.enum(*c.HTTP_METHODS)]


class HealthMonitorSingleCreate(types.RequestBody):
    name: types.Str255 | None = None
    type: HmType
    delay: Seconds
    timeout: Seconds
    max_retries: Retries
    max_retries_down: Retries | None = DEFAULT_MAX_RETRIES_DOWN
    http_method: HttpMethod | None = None
    url_path: UrlPath | None = None
    expected_codes: ExpectedCodes | None = None
    http_version: HttpVersion | None = None
    domain_name: DomainName | None = None
    admin_state_up: bool | None = True
    project_id: types.Str36 | None = None
    tenant_id: types.Str36 | None = None
    tags: types.Tags | None = None


class HealthMonitorPOST(HealthMonitorSingleCreate):
    pool_id: types.Uuid | None


class HealthMonitorPUT(types.RequestBody):
    name: types.Str255 | None = None
    delay: Seconds | None = None
    timeout: Seconds | None = None
    max_retries: Retries | None = None
    max_retries_down: Retries | None = None
    http_method: HttpMethod | None = None
    url_path: UrlPath | None = None
    expected_codes: ExpectedCodes | None = None
    http_version: HttpVersion | None = None
    domain_name: DomainName | None = None
    admin_state_up: bool | None = None
    tags: types.Tags | None = None


def _check_type_for_pool(hm_type: str, pool_protocol: str) -> None:
    if hm_type == c.HEALTH_MONITOR_PING and not CONF.api_settings.allow_ping_health_monitors:
        raise exceptions.DisabledOption(option="type", value=c.HEALTH_MONITOR_PING)
    if pool_protocol in L4_POOLS and hm_type not in UDP_POOL_TYPES:
        raise exceptions.ValidationException(
            detail=f"The associated pool protocol is {pool_protocol}, so only a "
                   f"{'/'.join(UDP_POOL_TYPES)} health monitor is supported."
        )
    if pool_protocol not in L4_POOLS and hm_type in UDP_ONLY_TYPES:
        raise exceptions.ValidationException(
            detail=f"The {hm_type} type is only supported for pools of type {'/'.join(L4_POOLS)}."
        )


def _check_udp_delay(hm_type: str, delay: int) -> None:
    minimum = CONF.api_settings.udp_connect_min_interval_health_monitor
    if hm_type == c.HEALTH_MONITOR_UDP_CONNECT and minimum is not None and delay < minimum:
        raise exceptions.ValidationException(
            detail=f"The request delay value {delay} should be larger than {minimum} for "
                   f"{hm_type} health monitor type."
        )


def _check_domain_name(domain_name: str | None, http_version: float | None) -> None:
    if not domain_name:
        return
    if not http_version:
        raise exceptions.ValidationException(
            detail="'http_version' must be specified when 'domain_name' is provided."
        )
    if http_version < 1.1:
        raise exceptions.InvalidOption(
            value=f"http_version {http_version}",
            option="health monitors HTTP 1.1 domain name health check",
        )


def _not_for_type(name: str, hm_type: str) -> exceptions.InvalidOption:
    return exceptions.InvalidOption(value=name, option=f"health monitors of type {hm_type}")


def validate_healthmonitor(spec: HealthMonitorSingleCreate, pool_protocol: str) -> dict[str, Any]:
    _check_type_for_pool(spec.type, pool_protocol)
    _check_udp_delay(spec.type, spec.delay)
    is_http = spec.type in HTTP_TYPES
    if not is_http:
        for name in HTTP_ONLY_FIELDS:
            if getattr(spec, name) is not None:
                raise _not_for_type(name, spec.type)
    _check_domain_name(spec.domain_name, spec.http_version)
    values: dict[str, Any] = {
        "name": spec.name, "type": spec.type, "delay": spec.delay, "timeout": spec.timeout,
        "rise_threshold": spec.max_retries,
        "fall_threshold": spec.max_retries_down if spec.max_retries_down is not None
        else DEFAULT_MAX_RETRIES_DOWN,
        "http_version": spec.http_version, "domain_name": spec.domain_name,
        "enabled": bool(spec.admin_state_up),
    }
    for name, default in DEFAULTS.items():
        given = getattr(spec, name)
        values[name] = (given if given is not None else default) if is_http else None
    return values


def new_health_monitor(
    session: Session, values: Mapping[str, Any], pool: models.Pool, project_id: str | None
) -> models.HealthMonitor:
    taken = session.execute(
        select(models.HealthMonitor.id).where(models.HealthMonitor.pool_id == pool.id)
    ).first()
    if taken:
        raise exceptions.DuplicateHealthMonitor()
    hm = models.HealthMonitor(
        id=models.new_id(), project_id=project_id, pool_id=pool.id,
        provisioning_status=c.PENDING_CREATE, operating_status=c.OFFLINE, **values,
    )
    session.add(hm)
    session.flush()
    return hm


def validate_healthmonitor_update(
    hm: models.HealthMonitor, changes: Mapping[str, Any], pool_protocol: str
) -> dict[str, Any]:
    """Check a PUT against the stored monitor; `null` resets a field to its default."""
    for name in REQUIRED_ON_PUT:
        if name in changes and changes[name] is None:
            raise exceptions.InvalidOption(value="None", option=name)
    is_http = hm.type in HTTP_TYPES
    if not is_http:
        for name in HTTP_ONLY_FIELDS:
            if name in changes:
                raise _not_for_type(name, hm.type)
    if "delay" in changes:
        _check_udp_delay(hm.type, changes["delay"])
    if "domain_name" in changes or "http_version" in changes:
        _check_domain_name(changes.get("domain_name", hm.domain_name),
                           changes.get("http_version", hm.http_version))
    columns = {"max_retries": "rise_threshold", "max_retries_down": "fall_threshold",
               "admin_state_up": "enabled"}
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "tags":
            continue
        if name == "max_retries_down" and value is None:
            value = DEFAULT_MAX_RETRIES_DOWN
        elif name == "admin_state_up":
            value = bool(value)
        elif name in DEFAULTS and value is None:
            value = DEFAULTS[name]
        out[columns.get(name, name)] = value
    return out


def apply_update(session: Session, hm: models.HealthMonitor, values: Mapping[str, Any],
                 tags: list[str] | None) -> None:
    for column, value in values.items():
        setattr(hm, column, value)
    repo.set_tags(session, hm.id, types.dedupe(tags))
    repo.set_status(session, hm, c.PENDING_UPDATE)
    session.flush()
