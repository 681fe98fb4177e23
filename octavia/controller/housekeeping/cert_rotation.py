"""Rotating amphora agent certificates before they expire, without a failover.

The agent swaps its server certificate in place (`PUT /1.0/certificate`), so the next
TLS handshakes use the new one while HAProxy keeps serving. `cert_busy` is claimed with a
conditional UPDATE so that two housekeeping processes never rotate the same amphora.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from octavia.common import constants as c
from octavia.common.config import CONF
from octavia.db import models
from octavia.db.api import session_scope

LOG = logging.getLogger(__name__)


def expiring_amphorae(buffer_seconds: int) -> list[str]:
    A = models.Amphora
    horizon = models.utcnow() + datetime.timedelta(seconds=buffer_seconds)
    with session_scope() as session:
        return list(session.execute(
            select(A.id).where(A.status == c.AMPHORA_ALLOCATED, A.cert_busy.is_(False),
                               A.cert_expiration.is_not(None), A.cert_expiration < horizon)
        ).scalars())


def _claim(amphora_id: str) -> bool:
    A = models.Amphora
    with session_scope(write=True) as session:
        result = cast(CursorResult[Any], session.execute(  # an UPDATE yields a CursorResult
            update(A).where(A.id == amphora_id, A.cert_busy.is_(False)).values(cert_busy=True)
        ))
        return bool(result.rowcount)


def rotate(amphora_id: str, cert_generator: Any, amphora_driver: Any) -> bool:
    """Issue a new agent certificate and push it; True when the amphora now uses it."""
    if not _claim(amphora_id):
        return False
    expiration = None
    try:
        with session_scope() as session:
            amphora = session.get(models.Amphora, amphora_id)
            if amphora is None:
                return False
            bundle = cert_generator.generate_cert_key_pair(
                cn=amphora_id, validity=CONF.certificates.cert_validity_time)
            amphora_driver.upload_cert_amp(amphora, bundle.pem)
            expiration = bundle.expiration.replace(tzinfo=None)
        LOG.info("rotated the agent certificate of amphora %s (valid until %s)", amphora_id, expiration)
        return True
    except Exception:
        LOG.exception("certificate rotation failed for amphora %s", amphora_id)
        return False
    finally:
        values: dict[str, Any] = {"cert_busy": False}
        if expiration is not None:
            values["cert_expiration"] = expiration
        with session_scope(write=True) as session:
            session.execute(update(models.Amphora).where(models.Amphora.id == amphora_id).values(**values))
