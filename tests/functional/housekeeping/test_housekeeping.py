"""Housekeeping against a real database: expiry purges and certificate rotation."""

from __future__ import annotations

import datetime

from cryptography import x509

from octavia.amphorae.drivers.noop import NoopAmphoraDriver
from octavia.certificates.generator.local import LocalCertGenerator
from octavia.common import constants as c
from octavia.controller.housekeeping import cert_rotation, db_cleanup
from octavia.db import models
from octavia.db.api import session_scope

HOUR = datetime.timedelta(hours=1)


def _lb(session, status: str, age: datetime.timedelta) -> str:
    when = models.utcnow() - age
    lb = models.LoadBalancer(project_id="p", provisioning_status=status, operating_status=c.OFFLINE,
                             created_at=when)
    session.add(lb)
    session.flush()
    session.execute(models.LoadBalancer.__table__.update().where(models.LoadBalancer.id == lb.id)
                    .values(updated_at=when))
    session.add(models.Tag(resource_id=lb.id, tag="t"))
    return lb.id


def _amphora(session, status: str, age: datetime.timedelta, lb_id: str | None = None, **kw) -> str:
    when = models.utcnow() - age
    amp = models.Amphora(status=status, load_balancer_id=lb_id, created_at=when, **kw)
    session.add(amp)
    session.flush()
    session.execute(models.Amphora.__table__.update().where(models.Amphora.id == amp.id)
                    .values(updated_at=when))
    return amp.id


def test_purges_only_old_deleted_rows(db):
    with session_scope(write=True) as s:
        old_lb = _lb(s, c.DELETED, 3 * HOUR)
        young_lb = _lb(s, c.DELETED, datetime.timedelta(minutes=1))
        live_lb = _lb(s, c.ACTIVE, 3 * HOUR)
        held_lb = _lb(s, c.DELETED, 3 * HOUR)
        _amphora(s, c.AMPHORA_ALLOCATED, 3 * HOUR, held_lb)
        old_amp = _amphora(s, c.DELETED, 3 * HOUR, old_lb)
        young_amp = _amphora(s, c.DELETED, datetime.timedelta(minutes=1))
        s.add(models.AmphoraHealth(amphora_id=old_amp, last_update=models.utcnow()))

    assert db_cleanup.purge_deleted_amphorae(3600) == 1
    assert db_cleanup.purge_deleted_load_balancers(3600) == 1
    with session_scope() as s:
        assert s.get(models.Amphora, old_amp) is None
        assert s.get(models.AmphoraHealth, old_amp) is None
        assert s.get(models.Amphora, young_amp) is not None
        assert s.get(models.LoadBalancer, old_lb) is None
        assert s.get(models.Tag, (old_lb, "t")) is None
        for kept in (young_lb, live_lb, held_lb):
            assert s.get(models.LoadBalancer, kept) is not None


def test_rotates_expiring_certificates_once(db, state_dir):
    soon = models.utcnow() + datetime.timedelta(days=1)
    later = models.utcnow() + datetime.timedelta(days=60)
    with session_scope(write=True) as s:
        expiring = _amphora(s, c.AMPHORA_ALLOCATED, HOUR, cert_expiration=soon)
        fresh = _amphora(s, c.AMPHORA_ALLOCATED, HOUR, cert_expiration=later)
        busy = _amphora(s, c.AMPHORA_ALLOCATED, HOUR, cert_expiration=soon, cert_busy=True)

    due = cert_rotation.expiring_amphorae(14 * 24 * 3600)
    assert due == [expiring]
    driver = NoopAmphoraDriver()
    uploaded: list[bytes] = []
    driver.upload_cert_amp = lambda amphora, pem: uploaded.append(pem)  # capture the real PEM
    assert cert_rotation.rotate(expiring, LocalCertGenerator(), driver) is True
    cert = x509.load_pem_x509_certificate(uploaded[0])
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == expiring
    assert b"PRIVATE KEY" in uploaded[0]
    with session_scope() as s:
        amp = s.get(models.Amphora, expiring)
        assert amp.cert_busy is False
        assert amp.cert_expiration > later - datetime.timedelta(days=31)
        assert s.get(models.Amphora, fresh).cert_expiration == later.replace(microsecond=later.microsecond)
    assert cert_rotation.rotate(busy, LocalCertGenerator(), driver) is False
    assert len(uploaded) == 1


def test_failed_upload_releases_the_claim(db, state_dir):
    with session_scope(write=True) as s:
        amp_id = _amphora(s, c.AMPHORA_ALLOCATED, HOUR, cert_expiration=models.utcnow())
    driver = NoopAmphoraDriver()

    def refuse(amphora, pem):
        raise ConnectionError("agent down")

    driver.upload_cert_amp = refuse
    assert cert_rotation.rotate(amp_id, LocalCertGenerator(), driver) is False
    with session_scope() as s:
        assert s.get(models.Amphora, amp_id).cert_busy is False
    assert cert_rotation.expiring_amphorae(3600) == [amp_id]
