"""No token or signing secret in any log line, even at DEBUG where slack-sdk logs requests."""

from __future__ import annotations

import io
import logging

from calls_app.logging_setup import SecretRedactor, configure_logging
from tests.conftest import ALICE
from tests.slack_requests import SIGNING_SECRET


def test_a_whole_call_at_debug_level_logs_no_secret(running_app):
    app = running_app
    stream = io.StringIO()
    configure_logging("DEBUG", [app.fake.bot_token, SIGNING_SECRET])
    root = logging.getLogger()
    root.handlers[0].stream = stream  # type: ignore[attr-defined]
    try:
        app.fake.fail_next("calls.participants.add", error="invalid_auth")
        call = app.start_call("start Standup")
        app.command("join", user="U0BOB00001")
        app.command("end", user=ALICE)
    finally:
        root.handlers.clear()
        root.setLevel(logging.WARNING)
    logged = stream.getvalue()
    assert "calls.add" in logged  # slack-sdk's debug lines were there to leak from
    assert call.slack_call_id in logged
    assert app.fake.bot_token not in logged
    assert SIGNING_SECRET not in logged
    assert "xoxb-" not in logged


def test_redactor_masks_any_slack_token_shape():
    redactor = SecretRedactor(["s3cr3t-signing"])
    text = "Bearer xoxb-123-456-abc xapp-1-A1-xyz xoxp-9 s3cr3t-signing"
    redacted = redactor.redact(text)
    for secret in ("xoxb-123", "xapp-1", "xoxp-9", "s3cr3t-signing"):
        assert secret not in redacted
