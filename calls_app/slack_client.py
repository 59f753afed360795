"""The WebClient the app talks to Slack with: retried only where a repeat is harmless, and
paced to Slack's rate limits (counted in RateLimits, shared by every gateway of a process).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RetryHandler, RetryState
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

from calls_app.rate_limits import RateLimits

# Methods that are safe to send again when the first try may or may not have reached Slack:
# a repeated calls.end answers inactive_call, a repeated participants call answers bad_users.
RETRY_SAFE_METHODS = frozenset(
    {
        "calls.end",
        "calls.participants.add",
        "calls.participants.remove",
        "calls.info",
        "calls.update",
        "chat.update",
        "users.info",
        "conversations.info",
        "conversations.members",
        "views.publish",
        "views.update",
        "auth.test",
    }
)

# A check before Slack's 3-second acknowledgement gets this long, all its requests together.
CHECK_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class Pacing:
    """How a gateway shares Slack's rate limits: the process's RateLimits, the workspace they
    are counted for, and (for background work) the share of each tier it may use."""

    limits: RateLimits
    team_id: str
    share: float | None = None


class _ForRetrySafeMethods(RetryHandler):
    """Retries a wrapped handler's cases only for RETRY_SAFE_METHODS."""

    def __init__(self, inner: RetryHandler) -> None:
        super().__init__(max_retry_count=inner.max_retry_count)
        self._inner = inner

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.rsplit("/", 1)[-1].split("?", 1)[0]
        return method in RETRY_SAFE_METHODS and self._inner._can_retry(
            state=state, request=request, response=response, error=error
        )

    def prepare_for_next_attempt(self, **kwargs: Any) -> None:
        self._inner.prepare_for_next_attempt(**kwargs)


class _ServerErrorRetry(RetryHandler):
    """5xx answers: Slack may not have processed the request, so try again after a backoff."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code >= 500


def retry_handlers() -> list[RetryHandler]:
    """5xx and dropped connections, only where a repeat is harmless. A 429 is not slept on
    here: it becomes a SlackFailure with its Retry-After (see RateLimits)."""
    return [
        _ForRetrySafeMethods(_ServerErrorRetry(max_retry_count=3)),
        _ForRetrySafeMethods(ConnectionErrorRetryHandler(max_retry_count=3)),
    ]


def make_web_client(
    *, token: str | None, base_url: str, timeout: int = 10, team_id: str | None = None
) -> WebClient:
    """A client with the app's retry rules. `team_id` goes with every call: an organization-
    wide token must name the workspace it acts in (a workspace's own token ignores it)."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        team_id=team_id,
        retry_handlers=retry_handlers(),
    )


def client_for_checks(client: WebClient) -> WebClient:
    """The same workspace and token, one try per request and CHECK_TIMEOUT_SECONDS each: for
    a check that must be answered before Slack's 3-second acknowledgement."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=CHECK_TIMEOUT_SECONDS,
        team_id=client.default_params.get("team_id"),
        retry_handlers=[],
    )


def retry_after_seconds(headers: Any) -> float:
    """Retry-After in seconds (Slack sends whole seconds); 1 if it's missing or odd."""
    values = {str(k).lower(): v for k, v in dict(headers or {}).items()}
    raw = values.get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return max(1.0, min(float(raw), 3600.0))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
