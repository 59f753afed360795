"""The App Home tab: what each person sees, kept current, within Slack's limits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, insert

from calls_app.db import autocommitting
from calls_app.models import Call, CallState, Participant
from tests.support.views import home_of, texts
from tests.support.workspace import ADMIN, ALICE, BOB, CAROL, GENERAL


def buttons(view: dict) -> list[dict]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_a_new_person_sees_how_to_start(running_app):
    view = home_of(running_app, CAROL)
    assert view["type"] == "home"
    assert "/call start" in texts(view)
    assert [b["action_id"] for b in buttons(view)] == ["home_start_call"]


def test_the_starter_sees_the_call_with_join_and_end(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.clock.advance(minutes=5)
    view = home_of(app, ALICE)
    shown = texts(view)
    assert f"*Standup* in <#{GENERAL}>" in shown
    assert "Started 5 min ago · 1 in the call" in shown
    by_action = {b["action_id"]: b for b in buttons(view)}
    assert by_action["call_join"]["url"] == call.join_url
    assert by_action["call_end"]["value"] == str(call.id)


def test_a_participant_sees_the_call_without_end(running_app):
    app = running_app
    app.start_call("start Standup")
    app.command("join", user=BOB)
    view = home_of(app, BOB)
    assert "*Standup*" in texts(view)
    assert "2 in the call" in texts(view)
    assert "call_end" not in [b["action_id"] for b in buttons(view)]


def test_an_admin_in_the_call_may_end_it_from_home(running_app):
    app = running_app
    app.start_call("start Standup")
    app.command("join", user=ADMIN)
    assert "call_end" in [b["action_id"] for b in buttons(home_of(app, ADMIN))]


def test_an_outsider_sees_none_of_it(running_app):
    app = running_app
    app.start_call("start Secret planning")
    app.command("end", user=ALICE)
    app.start_call("start Another")
    view = home_of(app, CAROL)
    assert "Secret planning" not in texts(view)
    assert "Another" not in texts(view)
    assert "/call start" in texts(view)


def test_recent_calls_say_when_how_long_and_how_many(running_app):
    app = running_app
    app.start_call("start Standup")
    app.command("join", user=BOB)
    app.clock.advance(minutes=12)
    app.command("end", user=ALICE)
    view = home_of(app, BOB)
    shown = texts(view)
    assert "lasted 12 min · 2 people took part" in shown
    assert "<!date^" in shown


def test_recent_calls_are_the_last_ten_newest_first(running_app):
    app = running_app
    for i in range(12):
        app.start_call(f"start Call {i:02d}")
        app.clock.advance(minutes=1)
        app.command("end", user=ALICE)
    shown = texts(home_of(app, ALICE))
    titles = [line.split("*")[1] for line in shown.splitlines() if line.startswith("*Call ")]
    assert titles == [f"Call {i:02d}" for i in range(11, 1, -1)]


def test_home_is_republished_for_people_who_opened_it_when_their_call_changes(running_app):
    app = running_app
    home_of(app, ALICE)  # Alice has Home open; Carol never opened hers
    call = app.start_call("start Standup")
    app.settle()
    assert "1 in the call" in texts(app.fake.home_views[ALICE])
    app.command("join", user=BOB)
    app.settle()
    assert "2 in the call" in texts(app.fake.home_views[ALICE])
    app.command("rename Retro", user=ALICE)
    app.settle()
    assert "*Retro*" in texts(app.fake.home_views[ALICE])
    app.command("end", user=ALICE)
    app.settle()
    assert "lasted" in texts(app.fake.home_views[ALICE])
    assert set(app.fake.home_views) == {ALICE}
    assert call.id


def test_the_common_path_publishes_no_home_nobody_opened(running_app):
    app = running_app
    app.start_call("start Standup")
    app.command("join", user=BOB)
    app.command("end", user=ALICE)
    app.settle()
    assert app.fake.attempts_to("views.publish") == []


def test_end_from_home_ends_the_call_and_refreshes_home(running_app):
    app = running_app
    call = app.start_call("start Standup")
    home_of(app, ALICE)
    result, _ = app.slack.click_in_home("call_end", str(call.id), user=ALICE)
    assert result.status == 200
    app.fake.wait_for(lambda: app.sent("calls.end"))
    app.fake.wait_for(lambda: "lasted" in texts(app.fake.home_views[ALICE]))
    assert app.db.call(call.id).state == CallState.ENDED


def test_a_refused_click_in_home_is_explained_in_home(running_app):
    app = running_app
    call = app.start_call("start Standup")
    home_of(app, BOB)
    before = len(app.fake.attempts_to("views.publish"))
    app.slack.click_in_home("call_end", str(call.id), user=BOB)
    app.fake.wait_for(lambda: len(app.fake.attempts_to("views.publish")) > before)
    notice = app.fake.home_views[BOB]["blocks"][0]["elements"][0]["text"]
    assert "can end it" in notice
    assert app.db.call(call.id).state == CallState.ACTIVE


def seed_history(app, numbers: range, *, active: int = 0, title: str = "Seeded") -> None:
    """Calls Alice took part in, written straight to the database: the last `active` of
    `numbers` still running, the others ended, older the higher their number."""
    now = app.clock()
    rows, people = [], []
    for i in numbers:
        ended = i < numbers.stop - active
        started = now - timedelta(hours=2, minutes=i)
        ended_at = started + timedelta(minutes=30) if ended else None
        rows.append(
            {
                "id": 100_000 + i,
                "team_id": "T0001",
                "channel_id": GENERAL,
                "slack_call_id": f"RSEED{i:06d}",
                "external_unique_id": f"seed-{i}",
                "title": f"{title} {i} " + "x" * 130,
                "join_url": f"https://meet.example.org/seed-{i}",
                "created_by": ALICE,
                "state": CallState.ENDED if ended else CallState.ACTIVE,
                "started_at": started,
                "ended_at": ended_at,
                "duration_seconds": 1800 if ended else None,
            }
        )
        people.append(
            {
                "call_id": 100_000 + i,
                "slack_user_id": ALICE,
                "joined_at": started,
                "left_at": ended_at,
                "call_ended_at": ended_at,
            }
        )
    with app.db.engine.begin() as connection:
        connection.execute(insert(Call), rows)
        connection.execute(insert(Participant), people)


def test_home_stays_within_slacks_limits_whatever_the_history(running_app):
    app = running_app
    seed_history(app, range(360), active=60)
    view = home_of(app, ALICE)  # the fake refuses views over 100 blocks or 250 kB
    assert app.fake.attempts_to("views.publish")[-1].ok
    assert len(view["blocks"]) <= 100
    assert "More calls are running" in texts(view)


def count_queries(app, action) -> list[str]:
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if "outbox" not in statement:  # the outbox runner polls on its own clock meanwhile
            statements.append(statement)

    # Reads run on the autocommit engine (on PostgreSQL, one of its own), writes on either.
    engines = {app.db.engine, autocommitting(app.db.engine)}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    return statements


def test_home_reads_the_same_queries_with_10_or_10000_past_calls(running_app):
    app = running_app
    seed_history(app, range(10))
    small = count_queries(app, lambda: home_of(app, ALICE))
    seed_history(app, range(10, 10_000), title="Old")
    large = count_queries(app, lambda: home_of(app, ALICE))
    assert len(small) == len(large)
    selects = [s for s in large if s.lstrip().upper().startswith("SELECT")]
    assert selects and all("LIMIT" in s or "GROUP BY" in s for s in selects), selects
