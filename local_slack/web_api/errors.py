"""The refusal every fake method raises: Slack's ``ok: false`` answer, with its reasons."""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """An ``ok: false`` answer. Handlers raise it; the dispatcher turns it into the body."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        messages: list[str] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.messages = list(messages or [])
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["errors"] = list(self.messages)
            body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in self.messages]}
        return body
