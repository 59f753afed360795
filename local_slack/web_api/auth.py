"""Who a request is: its token from the Authorization header or the form, the workspace the
token acts in, and whether its scopes allow the method."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from local_slack.web_api.errors import SlackError
from local_slack.web_api.methods import METHOD_SCOPES, missing
from local_slack.web_api.state import SlackState, Team, Token


def parse_authorization(header: str | None) -> tuple[str | None, tuple[str, str] | None]:
    """(bearer token, (client_id, client_secret)) from an Authorization header."""
    if not header:
        return None, None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None, None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, client_secret = decoded.partition(":")
        return None, (client_id, client_secret)
    return None, None


def authenticate(state: SlackState, token: str | None, method: str, args: dict[str, Any]) -> Team:
    """The workspace ``token`` acts in for ``method``, or Slack's refusal."""
    if not token:
        raise SlackError("not_authed")
    record = state.tokens.get(token)
    if record is None:
        raise SlackError("invalid_auth")
    if record.revoked_error:
        raise SlackError(record.revoked_error)
    needed = METHOD_SCOPES.get(method, ())
    if needed and record.scopes is not None and not record.scopes.intersection(needed):
        raise SlackError(
            "missing_scope", needed=",".join(needed), provided=",".join(sorted(record.scopes))
        )
    if record.team_id is not None:
        return state.teams[record.team_id]
    return _workspace_of_org_token(state, record, method, args)


def _workspace_of_org_token(state: SlackState, record: Token, method: str, args: dict) -> Team:
    """An organization-wide token acts in the workspace its call names by ``team_id``, one
    of its organization's (Slack: "some API methods will require a team_id"; here every
    method does but auth.test, which answers for the organization, also when named by
    its id as Bolt's client does for a view of an org-wide install)."""
    team_id = args.get("team_id")
    if method == "auth.test" and (missing(team_id) or team_id == record.enterprise_id):
        return Team(
            id=record.enterprise_id or "",
            name="Enterprise",
            domain="enterprise",
            bot_user_id="U0BOT",
            bot_id="B0BOT",
            enterprise_id=record.enterprise_id,
        )
    if missing(team_id):
        raise SlackError("missing_argument", messages=["missing required field: team_id"])
    team = state.teams.get(team_id) if isinstance(team_id, str) else None
    if team is None or team.enterprise_id != record.enterprise_id:
        raise SlackError("team_access_not_granted")
    return team
