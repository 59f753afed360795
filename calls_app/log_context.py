"""What a log line concerns — the workspace, channel, call and Slack request — kept in
contextvars by the entry points (Bolt's middleware, the services, the outbox runner, the
reconciler) and read by the JSON log formatter. Work queued for later carries it along
(calls_app/work_queue.py copies the context)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calls_app.models import Call

FIELDS = ("workspace", "channel", "call", "slack_request")

_vars: dict[str, ContextVar[Any]] = {name: ContextVar(name, default=None) for name in FIELDS}


@contextmanager
def about(**fields: Any) -> Iterator[None]:
    """Within the block, log lines concern these (unknown ones: none); after it, whatever they
    concerned before, whatever was set inside."""
    unknown = set(fields) - set(FIELDS)
    assert not unknown, unknown
    tokens = [(var, var.set(fields.get(name))) for name, var in _vars.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def begin(**fields: Any) -> None:
    """A new request: log lines concern these from here on (unknown ones: none). Where a
    request runs in a scope of its own (`about`, as HTTP requests do), it ends with it."""
    unknown = set(fields) - set(FIELDS)
    assert not unknown, unknown
    for name, var in _vars.items():
        var.set(fields.get(name))


def set_call(call_id: int | None) -> None:
    """From here on (until the enclosing `about` ends) log lines concern this call."""
    _vars["call"].set(call_id)


def each_call(calls: Iterable[Call]) -> Iterator[Call]:
    """The calls, log lines concerning each while the loop's body acts on it."""
    for call in calls:
        with about(workspace=call.team_id, channel=call.channel_id, call=call.id):
            yield call


def current() -> dict[str, Any]:
    """The known fields, for a log line."""
    return {name: value for name, var in _vars.items() if (value := var.get()) is not None}


def slack_request_of(body: dict[str, Any]) -> str | None:
    """What names a request from Slack: an event's id, or the trigger of a command or click."""
    for key in ("event_id", "trigger_id"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return None
