"""``flask sms outbox``: the latest stored messages, optionally for one mobile."""

from __future__ import annotations

from idp.extensions import db
from idp.sms import sms_gateway


def send(mobile, text, template=None):
    sms_gateway().send(mobile, text, template=template)
    db.session.commit()


def test_outbox_lists_newest_first(runner, app, clock):
    send("09121234567", "first", "otp")
    clock.advance(60)
    send("09351234567", "second")
    clock.advance(60)
    send("09121234567", "third", "welcome")
    result = runner.invoke(args=["sms", "outbox"])
    assert result.exit_code == 0
    assert result.output.index("third") < result.output.index("second") \
        < result.output.index("first")
    assert "to 09121234567  (welcome)" in result.output
    assert "2026-11-26 11:32:00" in result.output  # 08:02 UTC shown in Tehran time


def test_outbox_filtered_by_mobile_in_any_form(runner, app):
    send("09121234567", "for me")
    send("09351234567", "not for me")
    result = runner.invoke(args=["sms", "outbox", "--to", "+98 912 123 ۴۵۶۷"])
    assert "for me" in result.output and "not for me" not in result.output


def test_outbox_limit_and_empty(runner, app):
    assert "no messages" in runner.invoke(args=["sms", "outbox"]).output
    for i in range(3):
        send("09121234567", f"message {i}")
    output = runner.invoke(args=["sms", "outbox", "--limit", "2"]).output
    assert "message 2" in output and "message 1" in output and "message 0" not in output


def test_outbox_refuses_a_bad_mobile(runner, app):
    result = runner.invoke(args=["sms", "outbox", "--to", "12345"])
    assert result.exit_code == 1 and "not an Iranian mobile" in result.output
