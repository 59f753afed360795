"""blocks and text: every message and view within Block Kit's limits, user text escaped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from calls_app import wording
from calls_app.block_ids import TITLE_INPUT, ActionId, BlockId, CallbackId
from calls_app.blocks.call_message import (
    copy_of_call_message,
    ended_call_message,
    ended_summary,
    invitation_message,
    joined_reply,
    live_call_message,
    started_reply,
    unstarted_call_message,
)
from calls_app.blocks.elements import Message, context_block
from calls_app.blocks.home import home_view
from calls_app.blocks.modals import RenameModalMetadata, rename_modal, started_modal
from calls_app.blocks.picker import CallStatus, PickerPage, call_picker, status_message
from calls_app.models import Call, CallState
from calls_app.records import HomeCalls, Person
from calls_app.text import escape_mrkdwn, format_duration, truncate
from local_slack.web_api.blockkit import BlockKitValidator

ALICE = "U0ALICE001"
BOB = "U0BOB00001"
STARTED_AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
JOIN_URL = "https://meet.example/calls-abcdefghijklmnopqrstuv"
EVIL_TITLE = "<!channel> <!here> & <@U0EVE00001> <https://evil.example|click me>"
RAW_MARKUP = ("<!channel>", "<!here>", "<@U0EVE00001>", "<https://evil.example")


def make_call(**overrides: Any) -> Call:
    fields: dict[str, Any] = {
        "id": 7,
        "team_id": "T0TEAM0001",
        "channel_id": "C0GENERAL",
        "slack_call_id": "R0CALL0001",
        "external_unique_id": "ext-7",
        "title": "Standup",
        "join_url": JOIN_URL,
        "created_by": ALICE,
        "state": CallState.ACTIVE,
        "started_at": STARTED_AT,
        "ended_at": None,
        "ended_by": None,
        "duration_seconds": None,
    }
    fields.update(overrides)
    return Call(**fields)


# -- helpers: walking Block Kit -----------------------------------------------------------------


def nodes(value: Any) -> Iterator[dict]:
    """Every dict in a block tree, depth first."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from nodes(child)


def mrkdwn_texts(message: Message) -> list[str]:
    """Every text Slack parses as mrkdwn: the fallback and each mrkdwn text object."""
    return [message.text] + [n["text"] for n in nodes(message.blocks) if n.get("type") == "mrkdwn"]


def assert_within_limits(message: Message) -> None:
    assert message.text
    assert len(message.text) <= 40000
    assert len(message.blocks) <= 50
    json.dumps(message.blocks)  # serialisable as sent
    for node in nodes(message.blocks):
        kind = node.get("type")
        if kind in ("plain_text", "mrkdwn"):
            assert node["text"], node
        if kind == "section":
            assert len(node["text"]["text"]) <= 3000
        if kind == "header":
            assert len(node["text"]["text"]) <= 150
        if kind == "context":
            assert len(node["elements"]) <= 10
            for element in node["elements"]:
                assert len(element["text"]) <= 3000
        if kind == "actions":
            assert 1 <= len(node["elements"]) <= 25
            action_ids = [e["action_id"] for e in node["elements"]]
            assert len(set(action_ids)) == len(action_ids)
        if kind == "button":
            assert node["text"]["type"] == "plain_text"
            assert 1 <= len(node["text"]["text"]) <= 75
            assert len(node.get("value", "")) <= 2000
            assert len(node.get("url", "")) <= 3000
            assert len(node["action_id"]) <= 255
        if "block_id" in node:
            assert len(node["block_id"]) <= 255


def assert_escaped(message: Message) -> None:
    for text in mrkdwn_texts(message):
        for raw in RAW_MARKUP:
            assert raw not in text, (raw, text)


def action_blocks(message: Message) -> list[dict]:
    return [b for b in message.blocks if b["type"] == "actions"]


# -- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("", 5, ""),
        ("abc", 3, "abc"),
        ("abc", 10, "abc"),
        ("abcd", 3, "ab…"),
        ("x" * 200, 150, "x" * 149 + "…"),
        ("hello world", 7, "hello…"),
        ("abc", 1, "…"),
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_truncate_at_exact_limit_keeps_text_untouched() -> None:
    text = "y" * 75
    assert truncate(text, 75) is text
    assert truncate(text + "z", 75) == "y" * 74 + "…"


def test_escape_mrkdwn() -> None:
    assert escape_mrkdwn("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert escape_mrkdwn("&amp;") == "&amp;amp;"  # user text is plain: its & shows as &
    assert escape_mrkdwn("*bold* _it_ plain") == "*bold* _it_ plain"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 sec"),
        (1, "1 sec"),
        (59, "59 sec"),
        (60, "1 min"),
        (119, "1 min"),
        (750, "12 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (3660, "1 h 1 min"),
        (3900, "1 h 5 min"),
        (7200, "2 h"),
        (90000, "25 h"),
    ],
)
def test_format_duration(seconds: int, expected: str) -> None:
    assert format_duration(seconds) == expected


# -- the live call ----------------------------------------------------------------------------


def test_live_call_message_shows_slacks_call_card() -> None:
    message = live_call_message(make_call())
    assert message.blocks[0] == {"type": "call", "call_id": "R0CALL0001"}


def test_live_call_message_has_four_buttons() -> None:
    message = live_call_message(make_call())
    [actions] = action_blocks(message)
    assert actions["block_id"] == BlockId.CALL_ACTIONS == "call_actions"
    buttons = actions["elements"]
    assert [b["action_id"] for b in buttons] == [
        "call_join",
        "call_leave",
        "call_rename",
        "call_end",
    ]
    assert [b["value"] for b in buttons] == ["7"] * 4
    join, leave, rename, end = buttons
    assert join["url"] == JOIN_URL
    assert join["style"] == "primary"
    assert end["style"] == "danger"
    assert "url" not in leave and "url" not in rename and "url" not in end
    assert [b["text"]["text"] for b in buttons] == ["Join", "Leave", "Rename", "End call"]


def test_live_call_message_text_names_the_starter_and_title() -> None:
    message = live_call_message(make_call(title="Q&A"))
    assert message.text == f"<@{ALICE}> started a call: Q&amp;A"


def test_action_ids_serialise_as_plain_strings() -> None:
    sent = json.loads(json.dumps(live_call_message(make_call()).blocks))
    assert sent[1]["elements"][0]["action_id"] == "call_join"
    assert sent[1]["block_id"] == "call_actions"


# -- the ended call ---------------------------------------------------------------------------


def test_ended_call_message_has_no_buttons() -> None:
    call = make_call(ended_by=BOB, duration_seconds=750, state=CallState.ENDED)
    message = ended_call_message(call)
    assert action_blocks(message) == []
    assert not [n for n in nodes(message.blocks) if n.get("type") == "button"]
    assert message.blocks[0] == {"type": "call", "call_id": "R0CALL0001"}


def test_unstarted_call_message_has_no_call_card_and_no_buttons() -> None:
    message = unstarted_call_message(make_call(title="*Bold* <!channel>", state=CallState.FAILED))
    assert [b["type"] for b in message.blocks] == ["section"]
    assert not [n for n in nodes(message.blocks) if n.get("type") == "button"]
    assert escape_mrkdwn("*Bold* <!channel>") in message.text
    assert "<!channel>" not in message.text


def test_a_copy_of_a_call_message_has_no_call_card_and_no_buttons() -> None:
    message = copy_of_call_message(make_call(title="<!here> sync"))
    assert [b["type"] for b in message.blocks] == ["section"]
    assert "<!here>" not in message.text and escape_mrkdwn("<!here> sync") in message.text


def test_ended_call_message_says_who_ended_it_and_how_long_it_lasted() -> None:
    call = make_call(ended_by=BOB, duration_seconds=3900, state=CallState.ENDED)
    message = ended_call_message(call)
    [context] = [b for b in message.blocks if b["type"] == "context"]
    summary = context["elements"][0]["text"]
    assert f"<@{BOB}>" in summary
    assert "1 h 5 min" in summary
    assert f"<@{BOB}>" in message.text and "1 h 5 min" in message.text
    assert "Standup" in message.text


def test_ended_call_message_without_ender_or_duration() -> None:
    message = ended_call_message(make_call(state=CallState.ENDED))
    assert ended_summary(make_call()) == "Ended by calls-app. It lasted 0 sec."
    assert "Ended by calls-app" in message.text


# -- limits and escaping in every message -----------------------------------------------------


def every_message(call: Call) -> list[Message]:
    # A new title reaches the picker already cut to 150 (parse, CallService.rename).
    new_title = truncate(call.title, 150)
    statuses = [
        CallStatus(call.title, call.created_by, 750, [Person(ALICE), Person(None, call.title)])
    ]
    return [
        live_call_message(call),
        ended_call_message(call),
        invitation_message(call),
        started_reply(call, [BOB], ["U0CAROL001"]),
        joined_reply(call, already_in=False),
        joined_reply(call, already_in=True),
        status_message(statuses),
        call_picker(question="Which one?", verb="join", calls=[call], title=None),
        call_picker(question="Which one?", verb="rename", calls=[call], title=new_title),
    ]


@pytest.mark.parametrize(
    "title",
    [
        "Standup",
        "t" * 150,
        "😀" * 150,
        "&<>" * 50,
        EVIL_TITLE,
        ("<!channel> " * 15)[:150],
    ],
    ids=["short", "150-chars", "150-emoji", "150-entities", "evil", "150-evil"],
)
def test_every_message_is_within_limits(title: str) -> None:
    call = make_call(title=title, ended_by=BOB, duration_seconds=42)
    for message in every_message(call):
        assert_within_limits(message)
        assert_escaped(message)


def test_huge_inputs_stay_within_limits() -> None:
    call = make_call(
        title="&" * 5000,
        join_url="https://meet.example/" + "r" * 1970,
        ended_by=BOB,
        duration_seconds=10**9,
    )
    for message in every_message(call):
        assert_within_limits(message)
    many = [Person(f"U{i:09d}") for i in range(2000)] + [Person(None, "<!channel>" * 50)] * 20
    status = status_message(
        [CallStatus("<!here>" * 2000, "U0ALICE001", 10**8, many) for _ in range(80)]
    )
    assert_within_limits(status)
    assert_escaped(status)
    started = started_reply(call, [f"U{i:09d}" for i in range(200)], [BOB] * 200)
    assert_within_limits(started)


def test_user_text_is_escaped_not_dropped() -> None:
    call = make_call(title="<!channel> & co")
    assert "&lt;!channel&gt; &amp; co" in live_call_message(call).text
    assert "*&lt;!channel&gt; &amp; co*" in started_reply(call, [], []).text
    [section] = status_message(
        [CallStatus(call.title, None, None, [Person(None, "<b> & Co.")])]
    ).blocks
    assert "*&lt;!channel&gt; &amp; co*" in section["text"]["text"]
    assert "&lt;b&gt; &amp; Co." in section["text"]["text"]


def test_invitation_message() -> None:
    message = invitation_message(make_call())
    assert f"<@{ALICE}>" in message.text
    section_text = message.blocks[0]["text"]["text"]
    assert "<#C0GENERAL>" in section_text and "*Standup*" in section_text
    [actions] = action_blocks(message)
    [join] = actions["elements"]
    assert (join["action_id"], join["value"], join["url"]) == ("call_join", "7", JOIN_URL)


def test_started_reply_lists_who_was_and_was_not_invited() -> None:
    message = started_reply(make_call(), [BOB, "U0CAROL001"], ["U0DAVE0001"])
    assert message.text == (
        f"Started *Standup*. Invited <@{BOB}>, <@U0CAROL001>. Couldn't invite <@U0DAVE0001>."
    )
    assert message.blocks[1]["elements"][0]["url"] == JOIN_URL
    assert started_reply(make_call(), [], []).text == "Started *Standup*."


def test_joined_reply() -> None:
    assert joined_reply(make_call(), already_in=False).text == "You joined *Standup*."
    assert joined_reply(make_call(), already_in=True).text == "You're already in *Standup*."


# -- the "which call?" picker -----------------------------------------------------------------


def forty_calls(title: str = "Call") -> list[Call]:
    return [
        make_call(
            id=100 + i,
            slack_call_id=f"R{i:09d}",
            title=f"{title} {i}",
            join_url=f"https://meet.example/room{i}",
            started_at=STARTED_AT + timedelta(minutes=7 * i),
        )
        for i in range(40)
    ]


def picker_buttons(message: Message) -> list[dict]:
    [actions] = [b for b in action_blocks(message) if b["block_id"] == BlockId.PICKER]
    return actions["elements"]


def more_button(message: Message) -> dict | None:
    more = [b for b in action_blocks(message) if b["block_id"] == BlockId.PICKER_MORE]
    if not more:
        return None
    [[button]] = [b["elements"] for b in more]
    return button


@pytest.mark.parametrize("verb", ["join", "leave", "end", "rename"])
def test_picker_has_at_most_25_buttons(verb: str) -> None:
    title = "New name" if verb == "rename" else None
    message = call_picker(question="Which?", verb=verb, calls=forty_calls(), title=title)
    assert_within_limits(message)
    buttons = picker_buttons(message)
    assert len(buttons) == 25
    action_ids = [b["action_id"] for b in buttons]
    assert len(set(action_ids)) == 25
    assert all(a.startswith(ActionId.PICK) for a in action_ids)
    for index, button in enumerate(buttons):
        value = json.loads(button["value"])
        assert value["verb"] == verb
        assert value["call_id"] == 100 + index
        if verb == "rename":
            assert value["title"] == "New name"
        else:
            assert "title" not in value


def test_picker_join_buttons_open_the_call() -> None:
    buttons = picker_buttons(
        call_picker(question="Which?", verb="join", calls=forty_calls(), title=None)
    )
    assert [b["url"] for b in buttons] == [f"https://meet.example/room{i}" for i in range(25)]
    leave = picker_buttons(
        call_picker(question="Which?", verb="leave", calls=forty_calls(), title=None)
    )
    assert not any("url" in b for b in leave)


def test_picker_labels_show_title_and_start_time() -> None:
    [first, second, *_] = picker_buttons(
        call_picker(question="Which?", verb="end", calls=forty_calls(), title=None)
    )
    assert first["text"]["text"] == "Call 0 (09:30 UTC)"
    assert second["text"]["text"] == "Call 1 (09:37 UTC)"


@pytest.mark.parametrize("new_title", ["😀" * 150, '"\\' * 75, "\x00" * 150, "&<>" * 50])
def test_picker_values_fit_for_the_longest_rename_title(new_title: str) -> None:
    calls = forty_calls(title="x" * 150)
    message = call_picker(question="Which?", verb="rename", calls=calls, title=new_title)
    assert_within_limits(message)
    for button in [*picker_buttons(message), more_button(message)]:
        assert len(button["value"]) <= 2000
        assert json.loads(button["value"])["title"] == new_title


@pytest.mark.parametrize("verb", ["join", "leave", "end", "rename"])
def test_picker_shows_a_page_and_a_more_button_for_the_next(verb: str) -> None:
    title = "New name" if verb == "rename" else None
    calls = forty_calls()
    first = call_picker(question="Which?", verb=verb, calls=calls, title=title)
    assert [json.loads(b["value"])["call_id"] for b in picker_buttons(first)] == list(
        range(100, 125)
    )
    assert first.blocks[2] == context_block("Calls 1–25 of 40.")
    more = more_button(first)
    assert more is not None
    assert (more["action_id"], more["text"]["text"]) == (ActionId.PICK_MORE, "More")
    assert PickerPage.loads(more["value"]) == PickerPage(verb, 1, title)

    second = call_picker(question="Which?", verb=verb, calls=calls, title=title, page=1)
    assert_within_limits(second)
    buttons = picker_buttons(second)
    assert [json.loads(b["value"])["call_id"] for b in buttons] == list(range(125, 140))
    assert [b["action_id"] for b in buttons] == [f"call_pick_{i}" for i in range(15)]
    assert second.blocks[2] == context_block("Calls 26–40 of 40.")
    assert more_button(second) is None  # the last page


def test_a_picker_that_fits_on_one_page_has_no_more_button() -> None:
    calls = forty_calls()[:25]
    message = call_picker(question="Which?", verb="end", calls=calls, title=None)
    assert [b["type"] for b in message.blocks] == ["section", "actions"]
    assert len(picker_buttons(message)) == 25
    assert more_button(message) is None


@pytest.mark.parametrize(("page", "first_id"), [(-1, 100), (1, 125), (2, 125), (99, 125)])
def test_a_page_past_either_end_shows_the_nearest(page: int, first_id: int) -> None:
    """The calls may have ended since the picker was drawn: its next page may be gone."""
    calls = forty_calls()[:30]
    message = call_picker(question="Which?", verb="end", calls=calls, title=None, page=page)
    assert json.loads(picker_buttons(message)[0]["value"])["call_id"] == first_id


@pytest.mark.parametrize("page", [PickerPage("end", 1, None), PickerPage("rename", 3, "😀" * 150)])
def test_picker_page_round_trips(page: PickerPage) -> None:
    assert PickerPage.loads(page.dumps()) == page
    assert len(page.dumps()) <= 2000  # a button's value


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "[]",
        "null",
        '{"page": 1}',
        '{"verb": "end"}',
        '{"verb": "end", "page": "1"}',
        '{"verb": "end", "page": true}',
        '{"verb": 3, "page": 1}',
        '{"verb": "rename", "page": 1, "title": 5}',
    ],
)
def test_picker_page_garbage_is_none(raw: str) -> None:
    assert PickerPage.loads(raw) is None


def test_picker_question_is_the_text_and_first_section() -> None:
    message = call_picker(question="Which call?", verb="end", calls=forty_calls(), title=None)
    assert message.text == "Which call?"
    assert message.blocks[0]["text"]["text"] == "Which call?"


def test_picker_labels_keep_the_start_time_for_long_titles() -> None:
    title = "Quarterly planning with the whole engineering organisation and guests"
    calls = [
        make_call(id=1, title=title, started_at=STARTED_AT),
        make_call(id=2, title=title, started_at=STARTED_AT + timedelta(hours=5)),
    ]
    labels = [
        b["text"]["text"]
        for b in picker_buttons(call_picker(question="Which?", verb="end", calls=calls, title=None))
    ]
    assert "(09:30 UTC)" in labels[0]
    assert "(14:30 UTC)" in labels[1]


# -- status -----------------------------------------------------------------------------------


def test_status_message() -> None:
    message = status_message(
        [
            CallStatus(
                "Standup",
                ALICE,
                750,
                [Person(ALICE), Person("W0BOB00001"), Person(None, "Guest Person")],
            ),
            CallStatus("Retro", None, None, []),
        ]
    )
    assert message.text == "2 call(s) running in this channel."
    first, second = (b["text"]["text"] for b in message.blocks)
    assert first == (
        f"*Standup*\nStarted by <@{ALICE}>, running for 12 min.\n"
        "In the call (3): <@U0ALICE001>, <@W0BOB00001>, Guest Person"
    )
    assert (
        second
        == "*Retro*\nStarted by someone, running for an unknown time.\nIn the call (0): nobody"
    )


def test_status_message_never_exceeds_50_blocks() -> None:
    message = status_message([CallStatus(f"c{i}", ALICE, i, []) for i in range(60)])
    assert len(message.blocks) == 50
    assert_within_limits(message)


@pytest.mark.parametrize("external_name", ["WALDO", "UX", "U2"])
def test_status_shows_external_names_as_text(external_name: str) -> None:
    [section] = status_message(
        [CallStatus("Standup", ALICE, 60, [Person(None, external_name)])]
    ).blocks
    assert f"<@{external_name}>" not in section["text"]["text"]


# -- the rename modal -------------------------------------------------------------------------


def test_rename_modal() -> None:
    call = make_call(title="t" * 150)
    view = rename_modal(call, response_url="https://hooks.slack.com/commands/T1/2/abc")
    assert view["type"] == "modal"
    assert view["callback_id"] == CallbackId.RENAME_MODAL == "call_rename_modal"
    for key in ("title", "submit", "close"):
        assert view[key]["type"] == "plain_text"
        assert 1 <= len(view[key]["text"]) <= 24
    assert len(view["blocks"]) <= 100
    [block] = view["blocks"]
    assert block["block_id"] == BlockId.TITLE
    element = block["element"]
    assert element["action_id"] == TITLE_INPUT
    assert element["initial_value"] == call.title
    assert len(element["initial_value"]) <= element["max_length"] == 150
    assert len(view["private_metadata"]) <= 3000
    json.dumps(view)


@pytest.mark.parametrize("response_url", ["https://hooks.slack.com/commands/T1/2/abc", None])
def test_rename_modal_metadata_round_trips(response_url: str | None) -> None:
    view = rename_modal(make_call(id=4242), response_url=response_url)
    assert RenameModalMetadata.loads(view["private_metadata"]) == RenameModalMetadata(
        4242, response_url
    )


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "{",
        "null",
        "42",
        '"text"',
        "[]",
        "[1, 2]",
        "{}",
        '{"response_url": "https://x.example"}',
        '{"call_id": null}',
        '{"call_id": "seven"}',
        '{"call_id": [7]}',
        '{"call_id": {"id": 7}}',
        '{"call_id": NaN}',
    ],
)
def test_rename_modal_metadata_garbage_is_none(raw: str) -> None:
    assert RenameModalMetadata.loads(raw) is None


@pytest.mark.parametrize("raw", ['{"call_id": 1e400}', '{"call_id": Infinity}'])
def test_rename_modal_metadata_infinite_call_id_is_none(raw: str) -> None:
    assert RenameModalMetadata.loads(raw) is None


@pytest.mark.parametrize(
    "raw", ['{"call_id": true}', '{"call_id": 7.9}', '{"call_id": 7, "response_url": 5}']
)
def test_rename_modal_metadata_wrong_types_are_none(raw: str) -> None:
    assert RenameModalMetadata.loads(raw) is None


# -- usage ------------------------------------------------------------------------------------


def test_usage_text_names_every_verb() -> None:
    text = wording.usage()
    for verb in ("start", "end", "join", "leave", "rename", "status", "help"):
        assert f"`{verb}" in text, verb
    assert len(text) <= 3000


def test_usage_text_puts_the_problem_first() -> None:
    text = wording.usage("I don't know `frob`.")
    assert text.splitlines()[0] == "I don't know `frob`."
    assert text.splitlines()[1:] == wording.usage().splitlines()


# -- verbatim: Slack leaves user text as typed ------------------------------------------------


def every_view(call: Call) -> list[list[dict]]:
    """The blocks of every message and view, the call's title in each."""
    ended = make_call(title=call.title, state=CallState.ENDED, ended_at=STARTED_AT)
    home = home_view(
        HomeCalls(active=[call], more_active=True, recent=[ended], present={}, took_part={}),
        may_end={call.id},
        now=STARTED_AT,
        notice=f"The call “{escape_mrkdwn(call.title)}” has already ended.",
    )
    messages = [
        *every_message(call),
        unstarted_call_message(call),
        copy_of_call_message(call),
    ]
    return [m.blocks for m in messages] + [
        home["blocks"],
        started_modal(call)["blocks"],
    ]


def test_every_mrkdwn_text_with_user_text_is_verbatim() -> None:
    call = make_call(title="standup #general @here www.example.com", ended_by=BOB)
    for view_blocks in every_view(call):
        for node in nodes(view_blocks):
            if node.get("type") == "mrkdwn":
                assert node.get("verbatim") is True, node
            if node.get("type") == "plain_text":
                assert "verbatim" not in node, node
    titled = [
        n for v in every_view(call) for n in nodes(v) if "www.example.com" in str(n.get("text"))
    ]
    assert len([n for n in titled if n.get("type") == "mrkdwn"]) >= 10


@pytest.mark.parametrize("title", ["Standup", EVIL_TITLE, "😀" * 150])
def test_the_fake_slacks_validator_accepts_every_message(title: str) -> None:
    call = make_call(title=title, ended_by=BOB, duration_seconds=42)
    for view_blocks in every_view(call):
        assert BlockKitValidator(lambda _: True).check_blocks(view_blocks, limit=100) == []


@pytest.mark.parametrize(
    "text",
    [
        {"type": "plain_text", "text": "Hi", "verbatim": True},
        {"type": "mrkdwn", "text": "Hi", "verbatim": "true"},
    ],
)
def test_the_fake_slacks_validator_refuses_verbatim_out_of_place(text: dict) -> None:
    errors = BlockKitValidator(lambda _: True).check_blocks(
        [{"type": "section", "text": text}], limit=50
    )
    assert errors == [
        "verbatim is a boolean, allowed only on mrkdwn [json-pointer:/blocks/0/text/verbatim]"
    ]
