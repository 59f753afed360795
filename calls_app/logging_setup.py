"""Logging that never writes a secret: tokens and the signing secret are masked in every record."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

MIN_SECRET_LENGTH = 8
_TOKEN = re.compile(r"xox[abposre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


class SecretRedactor(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # A secret of a few characters would garble every line it happens to occur in.
        self._secrets = [s for s in secrets if len(s) >= MIN_SECRET_LENGTH]

    def redact(self, text: str) -> str:
        text = _TOKEN.sub("xox?-[redacted]", text)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if clean != message:
            record.msg, record.args = clean, None
        return True


# gunicorn's loggers write through handlers of their own; their records never reach the root.
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    redactor = SecretRedactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # In a gunicorn worker its handlers exist by now (the app is loaded after them).
    for name in GUNICORN_LOGGERS:
        for gunicorn_handler in logging.getLogger(name).handlers:
            gunicorn_handler.filters = [
                f for f in gunicorn_handler.filters if not isinstance(f, SecretRedactor)
            ]
            gunicorn_handler.addFilter(redactor)
    # The app only reads the schema revision; alembic's INFO lines about that are noise.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Bolt reads SLACK_BOT_TOKEN itself and warns that the client we give it wins: it does.
    logging.getLogger("slack_bolt.App").addFilter(
        lambda record: "`token` will be unused" not in record.getMessage()
    )
