from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
import zlib
from typing import Any

import pytest

from octavia.controller.health import heartbeat_packet as hb
from octavia.controller.health.heartbeat_receiver import ReplayGuard
from octavia.controller.health.log_throttle import LogThrottle

KEY = b"test-heartbeat-key"
AMP = "6b1f4c1e-93a4-4c3e-9d52-0d6c1f4a7a11"


def sample(seq: int = 7, ts: float | None = None) -> hb.Heartbeat:
    return hb.Heartbeat(
        amphora_id=AMP,
        seq=seq,
        timestamp=time.time() if ts is None else ts,
        listeners={
            "l1": hb.ListenerReport(
                status=hb.LISTENER_OPEN,
                bytes_in=10,
                bytes_out=20,
                active_connections=1,
                total_connections=5,
                request_errors=2,
            )
        },
        pools={
            "p1": hb.PoolReport(status=hb.POOL_UP, members={"m1": hb.MEMBER_UP, "m2": hb.MEMBER_NO_CHECK})
        },
    )


def signed(doc: Any, key: bytes = KEY, raw: bytes | None = None) -> bytes:
    body = zlib.compress(raw if raw is not None else json.dumps(doc).encode())
    return body + hmac.new(key, body, hashlib.sha256).digest()


def valid_doc(**changes: Any) -> dict[str, Any]:
    doc = {"ver": 1, "id": AMP, "seq": 1, "ts": time.time(), "listeners": {}, "pools": {}}
    doc.update(changes)
    return doc


def rejected(packet: bytes, key: bytes = KEY) -> hb.DropReason:
    with pytest.raises(hb.HeartbeatRejected) as info:
        hb.decode(packet, key)
    return info.value.reason


def test_round_trip() -> None:
    original = sample()
    assert hb.decode(hb.encode(original, KEY), KEY) == original


def test_signature_is_hmac_sha256_of_the_compressed_body() -> None:
    packet = hb.encode(sample(), KEY)
    body, digest = packet[: -hb.DIGEST_BYTES], packet[-hb.DIGEST_BYTES :]
    assert digest == hmac.new(KEY, body, hashlib.sha256).digest()
    assert json.loads(zlib.decompress(body))["id"] == AMP


def test_wrong_key_is_rejected() -> None:
    assert rejected(hb.encode(sample(), b"other-key")) == hb.DropReason.BAD_SIGNATURE


@pytest.mark.parametrize("offset", [0, 5, -1, -hb.DIGEST_BYTES - 1])
def test_any_flipped_byte_is_rejected(offset: int) -> None:
    packet = bytearray(hb.encode(sample(), KEY))
    packet[offset] ^= 0x01
    assert rejected(bytes(packet)) == hb.DropReason.BAD_SIGNATURE


@pytest.mark.parametrize("cut", [1, 10, hb.DIGEST_BYTES])
def test_truncated_packet_is_rejected(cut: int) -> None:
    assert rejected(hb.encode(sample(), KEY)[:-cut]) == hb.DropReason.BAD_SIGNATURE


@pytest.mark.parametrize("packet", [b"", b"x", b"y" * hb.DIGEST_BYTES])
def test_too_short_packet_is_malformed(packet: bytes) -> None:
    assert rejected(packet) == hb.DropReason.MALFORMED


def test_signed_but_truncated_compressed_stream_is_malformed() -> None:
    body = zlib.compress(json.dumps(valid_doc()).encode())[:-4]
    assert rejected(body + hmac.new(KEY, body, hashlib.sha256).digest()) == hb.DropReason.MALFORMED


def test_oversized_datagram_is_rejected_before_anything_else() -> None:
    assert rejected(b"\0" * (hb.MAX_PACKET_BYTES + 1)) == hb.DropReason.OVERSIZE


def test_signed_payload_inflating_past_the_limit_is_oversize() -> None:
    bomb = b" " * (hb.MAX_PAYLOAD_BYTES * 4)
    packet = signed(None, raw=bomb)
    assert len(packet) < 8192
    assert rejected(packet) == hb.DropReason.OVERSIZE


def test_encode_refuses_a_packet_over_the_limit() -> None:
    huge = hb.Heartbeat(
        amphora_id=AMP,
        seq=1,
        timestamp=0.0,
        pools={
            str(uuid.uuid4()): hb.PoolReport(status=hb.POOL_UP, members={str(uuid.uuid4()): "UP"})
            for _ in range(3000)
        },
    )
    with pytest.raises(ValueError):
        hb.encode(huge, KEY)


@pytest.mark.parametrize(
    "doc",
    [
        [1, 2, 3],
        valid_doc(ver=2),
        valid_doc(ver=None),
        valid_doc(id=""),
        valid_doc(id=7),
        valid_doc(id="x" * 100),
        valid_doc(seq=-1),
        valid_doc(seq="1"),
        valid_doc(seq=True),
        valid_doc(ts="now"),
        valid_doc(listeners=[]),
        valid_doc(listeners={"l1": {"status": "STOP"}}),
        valid_doc(listeners={"l1": {"status": "OPEN", "stats": {"bytes_in": -5}}}),
        valid_doc(listeners={"l1": {"status": "OPEN", "stats": {"bytes_in": 1.5}}}),
        valid_doc(listeners={"l1": {"status": "OPEN", "stats": []}}),
        valid_doc(pools={"p1": {"status": "MAYBE"}}),
        valid_doc(pools={"p1": {"status": "UP", "members": {"m1": "SLEEPY"}}}),
        valid_doc(pools={"p1": "UP"}),
    ],
)
def test_malformed_payloads_are_rejected(doc: Any) -> None:
    assert rejected(signed(doc)) == hb.DropReason.MALFORMED


def test_signed_garbage_that_is_not_json_is_malformed() -> None:
    assert rejected(signed(None, raw=b"\xff\xfe not json")) == hb.DropReason.MALFORMED
    assert rejected(signed(None, raw=b'{"ver": 1, "id": ')) == hb.DropReason.MALFORMED


def test_non_finite_timestamp_is_malformed() -> None:
    assert (
        rejected(signed(None, raw=json.dumps(valid_doc(ts=float("nan"))).encode())) == hb.DropReason.MALFORMED
    )


@pytest.mark.parametrize("offset", [-31.0, 31.0, -1e9])
def test_timestamps_too_old_or_in_the_future_are_stale(offset: float) -> None:
    now = 1_800_000_000.0
    with pytest.raises(hb.HeartbeatRejected) as info:
        hb.check_freshness(sample(ts=now + offset), now, max_skew=30.0)
    assert info.value.reason == hb.DropReason.STALE


def test_timestamp_within_skew_is_fresh() -> None:
    now = 1_800_000_000.0
    hb.check_freshness(sample(ts=now - 29.0), now, max_skew=30.0)
    hb.check_freshness(sample(ts=now + 29.0), now, max_skew=30.0)


def test_replay_guard_refuses_equal_or_older_sequence() -> None:
    guard = ReplayGuard(max_skew=30.0)
    guard.check_and_record(sample(seq=10), now=100.0)
    for seq in (10, 9, 0):
        with pytest.raises(hb.HeartbeatRejected) as info:
            guard.check_and_record(sample(seq=seq), now=101.0)
        assert info.value.reason == hb.DropReason.REPLAYED
    guard.check_and_record(sample(seq=11), now=102.0)


def test_replay_guard_forgets_only_after_packets_would_be_stale_anyway() -> None:
    guard = ReplayGuard(max_skew=30.0)
    guard.check_and_record(sample(seq=10), now=100.0)
    with pytest.raises(hb.HeartbeatRejected):
        guard.check_and_record(sample(seq=10), now=159.0)
    guard.check_and_record(sample(seq=1), now=300.0)


def test_log_throttle_allows_once_per_key_per_window() -> None:
    now = [0.0]
    throttle = LogThrottle(window=10.0, clock=lambda: now[0])
    assert throttle.allow("10.0.0.1")
    assert not throttle.allow("10.0.0.1")
    assert throttle.allow("10.0.0.2")
    now[0] = 10.5
    assert throttle.allow("10.0.0.1")


def test_log_throttle_memory_is_bounded() -> None:
    now = [0.0]
    throttle = LogThrottle(window=10.0, max_keys=3, clock=lambda: now[0])
    assert all(throttle.allow(i) for i in range(3))
    assert not throttle.allow("fourth")
    now[0] = 11.0
    assert throttle.allow("fourth")


def test_a_thousand_member_report_fits_in_one_datagram() -> None:
    big = hb.Heartbeat(
        amphora_id=AMP,
        seq=1,
        timestamp=0.0,
        pools={
            str(uuid.uuid4()): hb.PoolReport(
                status=hb.POOL_UP, members={str(uuid.uuid4()): hb.MEMBER_UP for _ in range(100)}
            )
            for _ in range(10)
        },
    )
    assert hb.decode(hb.encode(big, KEY), KEY) == big
