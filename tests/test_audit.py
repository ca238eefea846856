"""The audit helper writes a row and a masked SECURITY log line."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from idp import audit
from idp.extensions import db
from idp.models import AuditEvent
from idp.text import mask_personal_numbers


def test_record_writes_row_and_masked_log(app, caplog):
    caplog.set_level(audit.SECURITY, logger="idp.security")
    audit.record("login_failed", ip="127.0.0.1", id_code="0012345679", mobile="09121234567")
    db.session.commit()
    row = db.session.scalar(select(AuditEvent))
    assert row.event == "login_failed" and row.ip == "127.0.0.1"
    assert row.data == {"id_code": "0012345679", "mobile": "09121234567"}
    [log] = [r for r in caplog.records if r.name == "idp.security"]
    assert log.levelno == audit.SECURITY and log.levelname == "SECURITY"
    assert "0012345679" not in log.getMessage() and "09121234567" not in log.getMessage()
    assert "0912***4567" in log.getMessage() and "001*****79" in log.getMessage()


def test_record_refuses_secrets(app):
    with pytest.raises(ValueError):
        audit.record("oops", password="hunter2")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+989121234567", "+98912***4567"),
        ("fida 123456789012", "fida 123*******12"),
        ("id 42 at 2026", "id 42 at 2026"),
    ],
)
def test_masking(text, masked):
    assert mask_personal_numbers(text) == masked


def test_security_level_name():
    assert logging.getLevelName(audit.SECURITY) == "SECURITY"
