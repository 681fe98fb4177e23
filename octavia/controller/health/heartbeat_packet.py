"""Wire format of amphora heartbeats: zlib-compressed JSON followed by an HMAC-SHA256.

The HMAC covers the compressed bytes so that nothing unauthenticated is ever
decompressed or parsed; decompression is bounded so a signed "zip bomb" cannot
exhaust memory. Sender (amphora agent) and receiver (health manager) share this
module, so the format is defined exactly once.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1
# On the wire a heartbeat is at most 64 KiB (one UDP datagram); its JSON may inflate to
# 1 MiB, which bounds memory while leaving room for thousands of members.
MAX_PACKET_BYTES = 64 * 1024
MAX_PAYLOAD_BYTES = 1024 * 1024
DIGEST_BYTES = hashlib.sha256().digest_size
MAX_ID_LENGTH = 64

LISTENER_OPEN = "OPEN"
LISTENER_FULL = "FULL"
LISTENER_STATUSES = (LISTENER_OPEN, LISTENER_FULL)

POOL_UP = "UP"
POOL_DOWN = "DOWN"
POOL_STATUSES = (POOL_UP, POOL_DOWN)

MEMBER_UP = "UP"
MEMBER_DOWN = "DOWN"
MEMBER_DRAIN = "DRAIN"
MEMBER_MAINT = "MAINT"
MEMBER_NO_CHECK = "no check"
MEMBER_STATUSES = (MEMBER_UP, MEMBER_DOWN, MEMBER_DRAIN, MEMBER_MAINT, MEMBER_NO_CHECK)

COUNTER_NAMES = ("bytes_in", "bytes_out", "active_connections", "total_connections", "request_errors")


class DropReason(enum.StrEnum):
    """Why a datagram was not applied; also the key of the receiver's drop counters."""

    OVERSIZE = "oversize"
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"
    REPLAYED = "replayed"
    UNKNOWN_AMPHORA = "unknown_amphora"


class HeartbeatRejected(Exception):
    def __init__(self, reason: DropReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ListenerReport:
    status: str
    bytes_in: int = 0
    bytes_out: int = 0
    active_connections: int = 0
    total_connections: int = 0
    request_errors: int = 0


@dataclass(frozen=True)
class PoolReport:
    status: str
    members: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Heartbeat:
    """What one amphora says about the load balancer it runs, at one instant."""

    amphora_id: str
    seq: int
    timestamp: float
    listeners: dict[str, ListenerReport] = field(default_factory=dict)
    pools: dict[str, PoolReport] = field(default_factory=dict)


def _sign(body: bytes, key: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()


def encode(heartbeat: Heartbeat, key: bytes) -> bytes:
    doc = {
        "ver": FORMAT_VERSION,
        "id": heartbeat.amphora_id,
        "seq": heartbeat.seq,
        "ts": heartbeat.timestamp,
        "listeners": {
            lid: {"status": rep.status, "stats": {name: getattr(rep, name) for name in COUNTER_NAMES}}
            for lid, rep in heartbeat.listeners.items()
        },
        "pools": {
            pid: {"status": rep.status, "members": dict(rep.members)} for pid, rep in heartbeat.pools.items()
        },
    }
    payload = json.dumps(doc, separators=(",", ":")).encode()
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"heartbeat payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    body = zlib.compress(payload)
    packet = body + _sign(body, key)
    if len(packet) > MAX_PACKET_BYTES:
        raise ValueError(f"heartbeat of {len(packet)} bytes exceeds {MAX_PACKET_BYTES}")
    return packet


def decode(packet: bytes, key: bytes) -> Heartbeat:
    """Authenticate and parse a datagram; raise HeartbeatRejected, never anything else."""
    if len(packet) > MAX_PACKET_BYTES:
        raise HeartbeatRejected(DropReason.OVERSIZE, f"{len(packet)} bytes")
    if len(packet) <= DIGEST_BYTES:
        raise HeartbeatRejected(DropReason.MALFORMED, f"only {len(packet)} bytes")
    body, digest = packet[:-DIGEST_BYTES], packet[-DIGEST_BYTES:]
    if not hmac.compare_digest(_sign(body, key), digest):
        raise HeartbeatRejected(DropReason.BAD_SIGNATURE, "HMAC mismatch")
    payload = _inflate(body)
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HeartbeatRejected(DropReason.MALFORMED, f"not JSON: {exc}") from None
    return _parse(doc)


def check_freshness(heartbeat: Heartbeat, now: float, max_skew: float) -> None:
    """Refuse a heartbeat whose clock is too far from ours in either direction."""
    if abs(now - heartbeat.timestamp) > max_skew:
        raise HeartbeatRejected(
            DropReason.STALE, f"timestamp {heartbeat.timestamp:.3f} is {now - heartbeat.timestamp:.1f}s off"
        )


def _inflate(body: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(body, MAX_PAYLOAD_BYTES + 1)
    except zlib.error as exc:
        raise HeartbeatRejected(DropReason.MALFORMED, f"bad compression: {exc}") from None
    if len(payload) > MAX_PAYLOAD_BYTES or inflater.unconsumed_tail:
        raise HeartbeatRejected(DropReason.OVERSIZE, f"payload exceeds {MAX_PAYLOAD_BYTES} bytes")
    if not inflater.eof or inflater.unused_data:
        raise HeartbeatRejected(DropReason.MALFORMED, "truncated or trailing compressed data")
    return payload


def _malformed(detail: str) -> HeartbeatRejected:
    return HeartbeatRejected(DropReason.MALFORMED, detail)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed(f"{what} is not an object")
    return value


def _ident(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise _malformed(f"{what} is not a valid id")
    return value


def _counter(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _malformed(f"{what} is not a non-negative integer")
    return value


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise _malformed(f"{what} has unknown status {value!r}")
    return str(value)


def _parse(raw: Any) -> Heartbeat:
    doc = _object(raw, "payload")
    if doc.get("ver") != FORMAT_VERSION:
        raise _malformed(f"unsupported version {doc.get('ver')!r}")
    seq = doc.get("seq")
    ts = doc.get("ts")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise _malformed("seq is not a non-negative integer")
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
        raise _malformed("ts is not a number")
    listeners: dict[str, ListenerReport] = {}
    for lid, rep in _object(doc.get("listeners"), "listeners").items():
        rep = _object(rep, "listener")
        stats = _object(rep.get("stats", {}), "listener stats")
        counters = {name: _counter(stats.get(name, 0), name) for name in COUNTER_NAMES}
        listeners[_ident(lid, "listener id")] = ListenerReport(
            status=_choice(rep.get("status"), LISTENER_STATUSES, "listener"), **counters
        )
    pools: dict[str, PoolReport] = {}
    for pid, rep in _object(doc.get("pools"), "pools").items():
        rep = _object(rep, "pool")
        members = {
            _ident(mid, "member id"): _choice(status, MEMBER_STATUSES, "member")
            for mid, status in _object(rep.get("members", {}), "members").items()
        }
        pools[_ident(pid, "pool id")] = PoolReport(
            status=_choice(rep.get("status"), POOL_STATUSES, "pool"), members=members
        )
    return Heartbeat(
        amphora_id=_ident(doc.get("id"), "amphora id"),
        seq=seq,
        timestamp=float(ts),
        listeners=listeners,
        pools=pools,
    )
