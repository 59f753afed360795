"""Logging that never writes a secret: tokens and the signing secret are masked in every record.

LOG_FORMAT=json makes every line one JSON object — gunicorn's own lines too — with the
workspace, channel, call and Slack request it concerns when known (calls_app/log_context.py).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType

from gunicorn.config import Config
from gunicorn.glogging import Logger as GunicornLogger

from calls_app import log_context

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


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, what it concerns, any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **log_context.current(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure_logging(level: str, secrets: Iterable[str] = (), log_format: str = "text") -> None:
    redactor = SecretRedactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(log_format))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # In a gunicorn worker its handlers exist by now (the app is loaded after them).
    _route_gunicorn(redactor, log_format)
    # Warnings and uncaught exceptions would be printed raw: they go through the handler too.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    # The app only reads the schema revision; alembic's INFO lines about that are noise.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Bolt reads SLACK_BOT_TOKEN itself and warns that the client we give it wins: it does.
    logging.getLogger("slack_bolt.App").addFilter(
        lambda record: "`token` will be unused" not in record.getMessage()
    )


def _route_gunicorn(redactor: SecretRedactor, log_format: str) -> None:
    for name in GUNICORN_LOGGERS:
        for gunicorn_handler in logging.getLogger(name).handlers:
            gunicorn_handler.filters = [
                f for f in gunicorn_handler.filters if not isinstance(f, SecretRedactor)
            ]
            gunicorn_handler.addFilter(redactor)
            if log_format == "json":
                gunicorn_handler.setFormatter(JsonFormatter())


def gunicorn_logger_class(secrets: Iterable[str], log_format: str) -> type[GunicornLogger]:
    """gunicorn's logger, its lines redacted (and JSON) from the arbiter's first line on."""
    redactor = SecretRedactor(secrets)

    class CallsAppGunicornLogger(GunicornLogger):
        def setup(self, cfg: Config) -> None:
            super().setup(cfg)
            _route_gunicorn(redactor, log_format)

    return CallsAppGunicornLogger


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    logging.getLogger("calls_app").critical("uncaught exception", exc_info=(kind, error, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread else "?"
    logging.getLogger("calls_app").error(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
    )


def startup_error_line(message: str, log_format: str) -> str:
    """The one line a start-up error prints, before logging is set up."""
    if log_format == "json":
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "ERROR",
            "logger": "calls_app",
            "message": f"calls-app: {message}",
        }
        return json.dumps(entry, ensure_ascii=False)
    return f"calls-app: {message}"


def startup_failed(error: Exception) -> int:
    """Print the one line a start-up error makes; the process's exit status."""
    # LOG_FORMAT is read as it is: the error may be that settings could not be read.
    print(
        startup_error_line(str(error), os.environ.get("LOG_FORMAT", "").strip().lower()),
        file=sys.stderr,
    )
    return 2
