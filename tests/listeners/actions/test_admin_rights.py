"""Who may end or rename someone else's call: an admin or owner of the call's own workspace
only — not an admin of another organization's workspace met in a Slack Connect channel —
as users.info said no more than a minute ago."""

from __future__ import annotations

import pytest

from calls_app.models import CallState
from tests.support.app import reply_text
from tests.support.enterprise import ORG, TEAM_A, TEAM_B, start_in
from tests.support.workspace import ADMIN, ALICE, OTHER_TEAM

# org_app (conftest): an organization-wide install on two workspaces of one Grid organization.

FOREIGNER = "U0FOREIGN1"  # in our channel through Slack Connect; of another organization
REFUSED = "Only the person who started this call or a workspace admin can {} it."


def assert_untouched(app, call) -> None:
    stored = app.db.call(call.id)
    assert (stored.state, stored.title, stored.ended_by) == (CallState.ACTIVE, call.title, None)
    assert app.sent("calls.end") == []
    assert app.sent("calls.update") == []
    assert app.sent("chat.update") == []


@pytest.mark.parametrize("role", ["is_admin", "is_owner", "is_primary_owner"])
def test_an_admin_of_another_organization_may_not_end_our_call(running_app, role):
    app = running_app
    app.fake.add_user(FOREIGNER, home_team_id=OTHER_TEAM, **{role: True})
    call = app.start_call("start Standup", user=ALICE)
    reply = app.click("call_end", str(call.id), user=FOREIGNER)
    assert reply_text(reply) == REFUSED.format("end")
    assert reply["response_type"] == "ephemeral"
    assert app.sent("users.info") == [{"user": FOREIGNER}]
    assert_untouched(app, call)


def test_an_admin_of_another_organization_may_not_rename_our_call(running_app):
    app = running_app
    app.fake.add_user(FOREIGNER, home_team_id=OTHER_TEAM, is_admin=True, is_owner=True)
    call = app.start_call("start Standup", user=ALICE)
    reply = app.command("rename Hijacked", user=FOREIGNER)
    assert reply_text(reply) == REFUSED.format("rename")
    reply = app.click("call_rename", str(call.id), user=FOREIGNER)
    assert reply_text(reply) == REFUSED.format("rename")
    assert app.fake.views == []  # no Rename modal opened
    assert_untouched(app, call)


def test_a_demoted_admin_loses_the_right_within_a_minute(running_app):
    app = running_app
    first = app.start_call("start One", user=ALICE)
    app.click("call_end", str(first.id), user=ADMIN)
    assert app.db.call(first.id).ended_by == ADMIN
    app.fake.add_user(ADMIN)  # no longer an admin
    second = app.start_call("start Two", user=ALICE)
    app.clock.advance(seconds=60)
    reply = app.click("call_end", str(second.id), user=ADMIN)
    assert reply_text(reply) == REFUSED.format("end")
    assert len(app.sent("users.info")) == 2  # asked again: what it knew had expired
    assert app.db.call(second.id).state == CallState.ACTIVE
    assert len(app.sent("calls.end")) == 1


# -- Enterprise Grid: users.info's enterprise_user says which organization someone is of -------


def grid_user(app, user: str, **roles) -> None:
    """Someone whose users.info (from workspace A) names workspace B as theirs."""
    app.fake.add_user(user, team_id=TEAM_A, home_team_id=TEAM_B, **roles)


def end_in_a(app, user: str) -> dict:
    return app.command("end", user=user, team_id=TEAM_A, enterprise_id=ORG, org_wide=True)


def test_an_admin_of_the_whole_organization_may_end_a_call_in_any_of_its_workspaces(org_app):
    app = org_app
    call = start_in(app, TEAM_A, "Alpha")
    grid_user(
        app, "U0ORGADMIN", enterprise_user={"enterprise_id": ORG, "is_admin": True, "teams": []}
    )
    end_in_a(app, "U0ORGADMIN")
    assert app.db.call(call.id).ended_by == "U0ORGADMIN"


def test_a_workspace_admin_of_the_organization_counts_where_they_belong(org_app):
    app = org_app
    call = start_in(app, TEAM_A, "Alpha")
    grid = {"enterprise_id": ORG, "is_admin": False, "teams": [TEAM_B, TEAM_A]}
    grid_user(app, "U0WSADMIN1", is_admin=True, enterprise_user=grid)
    end_in_a(app, "U0WSADMIN1")
    assert app.db.call(call.id).ended_by == "U0WSADMIN1"


@pytest.mark.parametrize(
    "grid",
    [
        {"enterprise_id": ORG, "is_admin": False, "teams": [TEAM_B]},  # not a member of A
        {"enterprise_id": "E0ELSEWHER", "is_admin": True, "teams": [TEAM_A]},  # another org
        None,  # no organization at all
    ],
    ids=["other-workspace", "other-org", "no-org"],
)
def test_a_workspace_admin_elsewhere_may_not_end_a_call(org_app, grid):
    app = org_app
    call = start_in(app, TEAM_A, "Alpha")
    grid_user(app, "U0WSADMIN2", is_admin=True, is_owner=True, enterprise_user=grid)
    reply = end_in_a(app, "U0WSADMIN2")
    assert reply_text(reply) == REFUSED.format("end")
    assert_untouched(app, call)
