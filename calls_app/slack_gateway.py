"""The thin layer over slack-sdk's WebClient: the calls the app makes, typed errors out.

A gateway wraps whichever client Bolt hands a request, so a per-workspace token (OAuth
installs) reaches Slack without the call service knowing about tokens. The client itself (its
retries) and the pacing to Slack's rate limits are slack_client.py's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from calls_app import metrics, wording
from calls_app.errors import SlackFailure
from calls_app.records import Person
from calls_app.slack_client import (
    CHECK_TIMEOUT_SECONDS,
    Pacing,
    client_for_checks,
    retry_after_seconds,
)

log = logging.getLogger(__name__)

# conversations.members: Slack's largest page, so a membership scan takes the fewest round trips.
MEMBER_PAGE_SIZE = 999
# Pages a membership check reads before giving up: ~3,000 members, a few quick reads that fit
# the check's time; past that the service refuses (see CallService.check_can_start).
MAX_MEMBER_PAGES = 3
_TOKEN_PROBLEMS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
}


def user_message_for(method: str, error: str) -> str:
    """One clear sentence for a Slack error, for the person who acted."""
    if error in _TOKEN_PROBLEMS:
        return wording.SLACK_TOKEN_REFUSED
    if error == "missing_scope":
        return wording.SLACK_SCOPE_MISSING
    if error == "ratelimited":
        return wording.SLACK_RATE_LIMITED
    if error == "not_authorized" and method == "calls.add":
        return wording.SLACK_REFUSES_CALLS_HERE
    if error.startswith("http_5"):
        return wording.slack_in_trouble(method, error[5:])
    if error == "unreachable":
        return wording.SLACK_UNREACHABLE
    if error == "timeout":
        return wording.SLACK_TIMED_OUT
    if method == "conversations.members":
        return wording.slack_members_unknown(error)
    return wording.slack_refused(method, error)


def _rate_limited(method: str, retry_after: float) -> SlackFailure:
    return SlackFailure(
        method, "ratelimited", user_message_for(method, "ratelimited"), retry_after=retry_after
    )


@dataclass(frozen=True)
class SlackCallInfo:
    title: str
    created_by: str | None
    date_start: datetime | None
    users: list[Person]
    ended: bool
    external_ids: tuple[str, ...] = ()  # the listed people who aren't Slack users


@dataclass(frozen=True)
class CallUser:
    """Someone Slack's call lists: a Slack user, or someone else we name (`external_id`)."""

    slack_id: str | None = None
    external_id: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None

    def as_slack(self) -> dict[str, str]:
        if self.slack_id is not None:
            return {"slack_id": self.slack_id}
        assert self.external_id is not None
        # display_name on removes too: a remove naming only external_id can do nothing.
        user = {"external_id": self.external_id, "display_name": self.display_name or "Guest"}
        if self.avatar_url:
            user["avatar_url"] = self.avatar_url
        return user


@dataclass(frozen=True)
class UserRoles:
    """What users.info says of where someone belongs and what they administer."""

    team_id: str | None  # the workspace the user belongs to (another org's, in Slack Connect)
    workspace_admin: bool  # admin, owner or primary owner of that workspace
    enterprise_id: str | None  # their Enterprise Grid organization (enterprise_user)
    enterprise_teams: tuple[str, ...]  # the organization's workspaces they are in
    org_admin: bool  # admin or owner of the whole organization


class SlackGateway:
    def __init__(
        self, client: WebClient, *, pacing: Pacing | None = None, deadline: float | None = None
    ) -> None:
        self._client = client
        self._pacing = pacing
        self._deadline = deadline  # time.monotonic() by which every request must be answered

    def for_checks_before_ack(self) -> SlackGateway:
        """The same workspace, one try per request and CHECK_TIMEOUT_SECONDS for all of them:
        a check that runs before Slack's 3-second acknowledgement must not outlast it retrying
        or paging (the person would see a failure, try again, and get the work done twice).
        Use the gateway it returns for one check only: its clock starts now."""
        return SlackGateway(
            client_for_checks(self._client),
            pacing=self._pacing,
            deadline=time.monotonic() + CHECK_TIMEOUT_SECONDS,
        )

    def _send(self, method: str, send: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        """Run one WebClient method; every failure becomes a SlackFailure naming it."""
        pacing = self._pacing
        if pacing is not None:
            wait = pacing.limits.take(pacing.team_id, method, share=pacing.share)
            if wait > 0:
                raise _rate_limited(method, wait)
        if self._deadline is not None:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                log.warning("Slack %s not sent: the check ran out of time", method)
                raise SlackFailure(method, "timeout", user_message_for(method, "timeout"))
            # The client is this gateway's own (for_checks_before_ack): no one else sees this.
            self._client.timeout = remaining  # type: ignore[assignment]
        outcome, started = "unexpected", time.monotonic()
        try:
            data = send(**kwargs).data
            outcome = "ok"
            return data  # type: ignore[no-any-return]
        except SlackApiError as e:
            status = e.response.status_code
            outcome = metrics.slack_outcome(status)
            if status == 429:
                retry_after = retry_after_seconds(e.response.headers)
                if pacing is not None:
                    pacing.limits.refused(pacing.team_id, method, retry_after)
                log.warning("Slack %s rate-limited us for %s s", method, retry_after)
                raise _rate_limited(method, retry_after) from None
            # A 5xx body is HTML, not Slack's JSON: name the status, not the parse failure.
            error = f"http_{status}" if status >= 500 else str(e.response.get("error") or status)
            log.warning("Slack %s failed: %s", method, error)
            raise SlackFailure(method, error, user_message_for(method, error)) from None
        except (SlackClientError, OSError) as e:
            outcome = metrics.unanswered_outcome(e)
            log.warning("Slack %s unreachable: %s", method, type(e).__name__)
            raise SlackFailure(
                method, "unreachable", user_message_for(method, "unreachable")
            ) from e
        finally:
            metrics.slack_request_done(method, outcome, time.monotonic() - started)

    # -- Calls API -----------------------------------------------------------------------------

    def add_call(
        self,
        *,
        external_unique_id: str,
        join_url: str,
        title: str,
        created_by: str,
        date_start: int,
        users: Sequence[str],
        desktop_app_join_url: str | None = None,
        external_display_id: str | None = None,
    ) -> str:
        """Register the call; returns Slack's call id."""
        extra = {"desktop_app_join_url": desktop_app_join_url} if desktop_app_join_url else {}
        if external_display_id:
            extra["external_display_id"] = external_display_id
        data = self._send(
            "calls.add",
            self._client.calls_add,
            external_unique_id=external_unique_id,
            join_url=join_url,
            title=title,
            created_by=created_by,
            date_start=date_start,
            users=[{"slack_id": user} for user in users],
            **extra,
        )
        return str(data["call"]["id"])

    def end_call(self, slack_call_id: str, *, duration_seconds: int) -> None:
        """End the call; one already ended counts as ended (a retry may have got there first)."""
        try:
            self._send(
                "calls.end", self._client.calls_end, id=slack_call_id, duration=duration_seconds
            )
        except SlackFailure as failure:
            if failure.error != "inactive_call":
                raise

    def call_info(self, slack_call_id: str) -> SlackCallInfo:
        call = self._send("calls.info", self._client.calls_info, id=slack_call_id)["call"]
        started = call.get("date_start")
        return SlackCallInfo(
            title=str(call.get("title") or ""),
            created_by=call.get("created_by"),
            date_start=datetime.fromtimestamp(int(started), UTC) if started else None,
            ended=bool(call.get("date_end")),
            users=[
                Person(slack_id=u.get("slack_id"), name=u.get("display_name"))
                for u in call.get("users", [])
            ],
            external_ids=tuple(
                str(u["external_id"]) for u in call.get("users", []) if u.get("external_id")
            ),
        )

    def add_participants(self, slack_call_id: str, users: Sequence[CallUser]) -> None:
        """Register these people, all or none: `bad_users` if Slack has one of them already."""
        self._send(
            "calls.participants.add",
            self._client.calls_participants_add,
            id=slack_call_id,
            users=[user.as_slack() for user in users],
        )

    def remove_participants(self, slack_call_id: str, users: Sequence[CallUser]) -> None:
        """Unregister these people, all or none: `bad_users` if Slack lacks one of them."""
        self._send(
            "calls.participants.remove",
            self._client.calls_participants_remove,
            id=slack_call_id,
            users=[user.as_slack() for user in users],
        )

    def rename_call(self, slack_call_id: str, title: str) -> None:
        self._send("calls.update", self._client.calls_update, id=slack_call_id, title=title)

    # -- messages, users, views ----------------------------------------------------------------

    def post_message(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]]
    ) -> tuple[str, str]:
        """Post in a channel (or a user's DM); returns the message's (channel, ts)."""
        data = self._send(
            "chat.postMessage",
            self._client.chat_postMessage,
            channel=channel,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(data["channel"]), str(data["ts"])

    def delete_message(self, *, channel: str, ts: str) -> None:
        self._send("chat.delete", self._client.chat_delete, channel=channel, ts=ts)

    def update_message(
        self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        self._send(
            "chat.update",
            self._client.chat_update,
            channel=channel,
            ts=ts,
            text=text,
            blocks=blocks,
        )

    def user_roles(self, user_id: str) -> UserRoles:
        user = self._send("users.info", self._client.users_info, user=user_id)["user"]
        grid = user.get("enterprise_user") or {}
        return UserRoles(
            team_id=user.get("team_id"),
            workspace_admin=bool(
                user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")
            ),
            enterprise_id=grid.get("enterprise_id"),
            enterprise_teams=tuple(grid.get("teams") or ()),
            org_admin=bool(grid.get("is_admin") or grid.get("is_owner")),
        )

    def unfurl(
        self,
        *,
        unfurls: dict[str, dict[str, Any]],
        channel: str | None = None,
        ts: str | None = None,
        unfurl_id: str | None = None,
        source: str | None = None,
    ) -> None:
        """Show links as we say: where posted (`channel`, `ts`) or still being typed
        (`unfurl_id`, `source`)."""
        where = {"channel": channel, "ts": ts} if unfurl_id is None else {
            "unfurl_id": unfurl_id,
            "source": source,
        }
        self._send("chat.unfurl", self._client.chat_unfurl, unfurls=unfurls, **where)

    def user_email(self, user_id: str) -> str | None:
        """The person's email, where Slack shows it to the app (scope users:read.email)."""
        user = self._send("users.info", self._client.users_info, user=user_id)["user"]
        email = (user.get("profile") or {}).get("email")
        return str(email) if email else None

    def user_by_email(self, email: str) -> str | None:
        """The Slack user with this email in the workspace; None if there is none."""
        try:
            data = self._send(
                "users.lookupByEmail", self._client.users_lookupByEmail, email=email
            )
        except SlackFailure as failure:
            if failure.error == "users_not_found":
                return None
            raise
        user = data.get("user") or {}
        return None if user.get("deleted") or user.get("is_bot") else user.get("id")

    def channel_membership(self, channel_id: str) -> tuple[str, bool]:
        """The channel's name and whether the app is in it; one it can't see, it isn't in."""
        try:
            channel = self._send(
                "conversations.info", self._client.conversations_info, channel=channel_id
            )["channel"]
        except SlackFailure as failure:
            if failure.error == "channel_not_found":
                return "", False
            raise
        return str(channel.get("name") or ""), bool(channel.get("is_member"))

    def channel_has_member(
        self, channel_id: str, user_id: str, *, max_pages: int = MAX_MEMBER_PAGES
    ) -> bool | None:
        """Whether the user is in the channel, reading its members page by page; None when
        ``max_pages`` pages were read and the list went on (the caller decides what that means)."""
        cursor = None
        for _ in range(max_pages):
            data = self._send(
                "conversations.members",
                self._client.conversations_members,
                channel=channel_id,
                limit=MEMBER_PAGE_SIZE,
                cursor=cursor,
            )
            if user_id in data.get("members", []):
                return True
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
        return None

    def update_view(self, *, view_id: str, view: dict[str, Any]) -> None:
        self._send("views.update", self._client.views_update, view_id=view_id, view=view)

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        self._send("views.open", self._client.views_open, trigger_id=trigger_id, view=view)

    def publish_home(self, *, user_id: str, view: dict[str, Any]) -> None:
        self._send("views.publish", self._client.views_publish, user_id=user_id, view=view)
