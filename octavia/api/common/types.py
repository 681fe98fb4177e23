"""Pydantic building blocks that reproduce WSME's coercions and error wording.

Integers accept numeric strings and booleans accept the usual words (pydantic's lax
mode does both). Each constrained type raises a PydanticCustomError whose message is
upstream's reason text, so `octavia.api.errors` can render the familiar faultstring.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


class RequestBody(BaseModel):
    """Base of every request schema: unknown attributes are refused (upstream's immutability)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    def given(self) -> dict[str, Any]:
        """Only the fields the caller sent (so `null` and "absent" stay distinct)."""
        return {k: getattr(self, k) for k in self.model_fields_set}

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        """No text may hold a NUL: PostgreSQL cannot store it and no config file may carry it."""
        if _has_nul(value):
            raise _fail("nul", "Value should not contain a NUL character")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


class _Rule:
    """An after-validator plus the JSON schema keywords that document it in `/openapi.json`."""

    def __init__(self, check: Callable[[Any], Any], **schema: Any) -> None:
        self.check = check
        self.schema = schema

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out.update(self.schema)
        return out


def _fail(kind: str, reason: str) -> PydanticCustomError:
    return PydanticCustomError(kind, reason)


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise _fail("uuid_format", "Value should be UUID format") from None


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise _fail("ip_format", "Value should be IPv4 or IPv6 format") from None


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise _fail("cidr_format", "Value should be IPv4 or IPv6 CIDR format") from None


def _max_len(limit: int) -> _Rule:
    def check(value: str) -> str:
        if len(value) > limit:
            raise _fail("max_len", f"Value should have a maximum character requirement of {limit}")
        return value

    return _Rule(check, maxLength=limit)


def int_bounds(low: int | None, high: int | None) -> _Rule:
    """The range check of a bounded integer, used as `Annotated[Int, int_bounds(low, high)]`.

    It returns the rule rather than the whole type so the type checker still sees an int.
    """

    def check(value: int) -> int:
        if low is not None and value < low:
            raise _fail("too_low", f"Value should be greater or equal to {low}")
        if high is not None and value > high:
            raise _fail("too_high", f"Value should be lower or equal to {high}")
        return value

    bounds = {k: v for k, v in (("minimum", low), ("maximum", high)) if v is not None}
    return _Rule(check, **bounds)


def _no_float(value: Any) -> Any:
    """WSME refuses 1.5 for an integer; pydantic would too, but a bool is not an int either."""
    if isinstance(value, bool):
        raise _fail("int_type", "Value should be an integer")
    return value


def enum(*values: str) -> _Rule:
    def check(value: str) -> str:
        if value not in values:
            raise _fail("enum", "Value should be one of: " + ", ".join(values))
        return value

    return _Rule(check, enum=list(values))


Uuid = Annotated[str, _Rule(_uuid, format="uuid")]
IpAddress = Annotated[str, _Rule(_ip, anyOf=[{"format": "ipv4"}, {"format": "ipv6"}])]
Cidr = Annotated[str, AfterValidator(_cidr)]
Str255 = Annotated[str, _max_len(255)]
Str64 = Annotated[str, _max_len(64)]
Str36 = Annotated[str, _max_len(36)]
Str2048 = Annotated[str, _max_len(2048)]
Str4096 = Annotated[str, _max_len(4096)]
Int = Annotated[int, BeforeValidator(_no_float)]
Port = Annotated[int, BeforeValidator(_no_float), int_bounds(1, 65535)]
Tags = list[Str255]


def dedupe(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    return list(dict.fromkeys(tags))
