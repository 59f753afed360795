"""Enterprise Grid: the app installed on a whole organization at once. One install (stored
without a workspace) and one token serve every workspace of the organization; each call
still belongs to its workspace."""

from __future__ import annotations

import json

from sqlalchemy import select

from calls_app.bolt_app import build_parts, build_reconciler
from calls_app.config import load_settings
from calls_app.installations import INSTALLATIONS_TABLE
from calls_app.models import CallState, EndReason
from local_slack.app_requests import app_home_opened_event
from tests.support.app import RunningApp
from tests.support.enterprise import (
    BOB_B,
    CAROL_X,
    CHANNEL_B,
    CHANNEL_X,
    ORG,
    ORG_TOKEN,
    OTHER_TEAM,
    TEAM_A,
    TEAM_B,
    start_in,
)
from tests.support.oauth import oauth_env
from tests.support.workspace import ALICE


def test_one_org_wide_install_serves_every_workspace_of_the_organization(org_app):
    app = org_app
    with app.db.engine.connect() as connection:
        installs = connection.execute(
            select(INSTALLATIONS_TABLE.c.enterprise_id, INSTALLATIONS_TABLE.c.team_id)
        ).all()
    assert sorted(installs, key=str) == sorted([(ORG, None), (None, OTHER_TEAM)], key=str)
    call_a = start_in(app, TEAM_A, "Alpha")
    call_b = start_in(app, TEAM_B, "Beta")
    assert (call_a.team_id, call_a.enterprise_id) == (TEAM_A, ORG)
    assert (call_b.team_id, call_b.enterprise_id) == (TEAM_B, ORG)
    adds = {r.args["title"]: r for r in app.fake.attempts_to("calls.add")}
    assert {title: r.token for title, r in adds.items()} == {"Alpha": ORG_TOKEN, "Beta": ORG_TOKEN}
    # The one token names the workspace each call is for.
    assert {title: r.args["team_id"] for title, r in adds.items()} == {
        "Alpha": TEAM_A,
        "Beta": TEAM_B,
    }


def test_the_reconciler_acts_for_a_workspace_of_an_org_wide_install(
    org_app, org_fake, database_url
):
    app = org_app
    call = start_in(app, TEAM_B, "Beta")
    settings = load_settings(oauth_env(org_fake, database_url))
    app.clock.advance(seconds=settings.max_call_seconds + 60)
    reconciler = build_reconciler(build_parts(settings, app.db.engine, clock=app.clock))
    done = reconciler.run_once()
    assert "closed: workspace gone" not in done, done
    stored = app.db.call(call.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.MAX_DURATION)
    (ended,) = app.fake.attempts_to("calls.end")
    assert (ended.status, ended.token, ended.args["team_id"]) == (200, ORG_TOKEN, TEAM_B)
    assert app.fake.calls[call.slack_call_id].ended


def test_uninstalling_from_the_organization_closes_the_calls_of_all_its_workspaces(org_app):
    app = org_app
    call_a = start_in(app, TEAM_A, "Alpha")
    call_b = start_in(app, TEAM_B, "Beta")
    elsewhere = app.start_call("start Else", user=CAROL_X, team_id=OTHER_TEAM, channel=CHANNEL_X)
    result = app.slack.event(
        {"type": "app_uninstalled"}, team_id=TEAM_A, enterprise_id=ORG, org_wide=True
    )
    assert result.status == 200
    for call in (call_a, call_b):
        app.fake.wait_for(lambda call=call: app.db.call(call.id).state == CallState.ENDED)
        assert app.db.call(call.id).end_reason == EndReason.UNINSTALLED
        assert app.db.present(call.id) == []
    assert app.db.call(elsewhere.id).state == CallState.ACTIVE
    with app.db.engine.connect() as connection:
        left = connection.execute(select(INSTALLATIONS_TABLE.c.team_id)).scalars().all()
    assert left == [OTHER_TEAM]


def test_a_workspace_taken_out_of_the_org_wide_install_has_its_calls_closed(org_app):
    app = org_app
    call_a = start_in(app, TEAM_A, "Alpha")
    call_b = start_in(app, TEAM_B, "Beta")
    result = app.slack.event(
        {"type": "team_access_revoked", "team_ids": [TEAM_B]},
        team_id=TEAM_A,
        enterprise_id=ORG,
        org_wide=True,
    )
    assert result.status == 200
    app.fake.wait_for(lambda: app.db.call(call_b.id).state == CallState.ENDED)
    assert app.db.call(call_b.id).end_reason == EndReason.UNINSTALLED
    assert app.db.call(call_a.id).state == CallState.ACTIVE
    with app.db.engine.connect() as connection:  # the organization's install stays
        enterprises = connection.execute(select(INSTALLATIONS_TABLE.c.enterprise_id)).scalars()
        assert ORG in list(enterprises)


def test_home_opened_in_a_workspace_of_the_organization_shows_its_calls(org_app):
    app = org_app
    start_in(app, TEAM_B, "Beta")
    before = len(app.fake.attempts_to("views.publish"))
    # An org-wide install's event names no workspace in its authorization, only the envelope.
    result = app.slack.event(
        app_home_opened_event(BOB_B), team_id=TEAM_B, enterprise_id=ORG, org_wide=True
    )
    assert result.status == 200
    app.fake.wait_for(lambda: len(app.fake.attempts_to("views.publish")) > before)
    published = app.fake.attempts_to("views.publish")[-1]
    assert published.ok, published.response
    assert (published.token, published.args["user_id"]) == (ORG_TOKEN, BOB_B)
    assert f"*Beta* in <#{CHANNEL_B}>" in json.dumps(app.fake.home_views[BOB_B])


# -- Interactivity from an org-wide install: Bolt's team is the organization's (the view's
# app_installed_team_id); the call, the modal and the Home belong to the workspace.

ORG_WIDE = {"enterprise_id": ORG, "org_wide": True}


def opened_modal(app: RunningApp, press) -> dict:
    """Press a button that opens a modal; the modal, as Slack opened it in workspace B."""
    press()
    app.fake.wait_for(lambda: app.fake.views)
    (request,) = app.fake.attempts_to("views.open")
    assert (request.ok, request.token, request.args["team_id"]) == (True, ORG_TOKEN, TEAM_B)
    return app.fake.views[-1]


def test_the_rename_modal_of_an_org_wide_install_renames_the_workspaces_call(org_app):
    app = org_app
    start_in(app, TEAM_A, "Beta")  # a call of the same title in another workspace
    call = start_in(app, TEAM_B, "Beta")
    opened = opened_modal(
        app,
        lambda: app.slack.click(
            "call_rename",
            str(call.id),
            user=BOB_B,
            team_id=TEAM_B,
            channel=CHANNEL_B,
            message_ts=call.message_ts,
            **ORG_WIDE,
        ),
    )
    submitted = app.slack.submit_view(
        opened["view"],
        {"title_block": {"title_input": {"type": "plain_text_input", "value": "Retro"}}},
        user=BOB_B,
        team_id=TEAM_B,
        view_id=opened["id"],
        **ORG_WIDE,
    )
    assert (submitted.status, submitted.body) == (200, "")  # closed: no field error
    app.fake.wait_for(lambda: app.fake.calls_to("calls.update"))
    (update,) = app.fake.attempts_to("calls.update")
    assert (update.token, update.args["team_id"]) == (ORG_TOKEN, TEAM_B)
    assert update.args["id"] == call.slack_call_id
    assert [c.title for c in app.db.calls()] == ["Beta", "Retro"]


def test_the_start_modal_of_an_org_wide_install_starts_in_the_workspace(org_app):
    app = org_app
    opened = opened_modal(
        app,
        lambda: app.slack.click_in_home(
            "home_start_call", "start", user=BOB_B, team_id=TEAM_B, **ORG_WIDE
        ),
    )
    values = {
        "channel_block": {
            "channel_input": {"type": "conversations_select", "selected_conversation": CHANNEL_B}
        },
        "title_block": {"title_input": {"type": "plain_text_input", "value": "Planning"}},
        "people_block": {"people_input": {"type": "multi_users_select", "selected_users": []}},
    }
    result = app.slack.submit_view(
        opened["view"], values, user=BOB_B, team_id=TEAM_B, view_id=opened["id"], **ORG_WIDE
    )
    assert result.json()["response_action"] == "update", result.body
    app.fake.wait_for(lambda: app.fake.calls_to("chat.postMessage"))
    (added,) = app.fake.attempts_to("calls.add")
    assert (added.ok, added.token, added.args["team_id"]) == (True, ORG_TOKEN, TEAM_B)
    (posted,) = app.fake.attempts_to("chat.postMessage")
    assert (posted.args["channel"], posted.args["team_id"]) == (CHANNEL_B, TEAM_B)
    call = app.db.only_call()
    assert (call.team_id, call.enterprise_id, call.channel_id, call.state) == (
        TEAM_B,
        ORG,
        CHANNEL_B,
        CallState.ACTIVE,
    )


def test_home_buttons_of_an_org_wide_install_act_on_the_workspaces_call(org_app):
    app = org_app
    call_a = start_in(app, TEAM_A, "Alpha")
    call_b = start_in(app, TEAM_B, "Beta")
    app.slack.event(app_home_opened_event(BOB_B), team_id=TEAM_B, **ORG_WIDE)
    app.fake.wait_for(lambda: BOB_B in app.fake.home_views)
    result, _ = app.slack.click_in_home(
        "call_end", str(call_b.id), user=BOB_B, team_id=TEAM_B, **ORG_WIDE
    )
    assert result.status == 200
    app.fake.wait_for(lambda: app.db.call(call_b.id).state == CallState.ENDED)
    (ended,) = app.fake.attempts_to("calls.end")
    assert (ended.ok, ended.token, ended.args["team_id"]) == (True, ORG_TOKEN, TEAM_B)
    assert ended.args["id"] == call_b.slack_call_id
    # Bob's Home, in his workspace, shows the call ended.
    app.fake.wait_for(lambda: "lasted" in json.dumps(app.fake.home_views[BOB_B]))
    published = app.fake.attempts_to("views.publish")[-1]
    assert (published.ok, published.args["team_id"]) == (True, TEAM_B)
    assert app.db.call(call_a.id).state == CallState.ACTIVE


def test_a_home_button_of_an_org_wide_install_does_not_reach_another_workspaces_call(org_app):
    app = org_app
    call_b = start_in(app, TEAM_B, "Beta")
    before = len(app.fake.attempts_to("views.publish"))
    app.slack.click_in_home("call_end", str(call_b.id), user=ALICE, team_id=TEAM_A, **ORG_WIDE)
    app.fake.wait_for(lambda: len(app.fake.attempts_to("views.publish")) > before)
    published = app.fake.attempts_to("views.publish")[-1]
    assert (published.ok, published.args["team_id"]) == (True, TEAM_A)
    notice = app.fake.home_views[ALICE]["blocks"][0]["elements"][0]["text"]
    assert "doesn't exist" in notice
    assert app.fake.attempts_to("calls.end") == []
    assert app.db.call(call_b.id).state == CallState.ACTIVE
