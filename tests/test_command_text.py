"""command_text.parse: what follows `/call`, as Slack sends it (mentions, links and &<> escaped)."""

from __future__ import annotations

import pytest

from calls_app.command_text import CallCommand, parse
from calls_app.errors import UsageError
from calls_app.records import MAX_TITLE_LENGTH, Verb


def usage_error(text: str) -> str:
    with pytest.raises(UsageError) as raised:
        parse(text)
    return raised.value.user_message


# -- verbs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "   \n\t  "])
def test_empty_or_blank_text_asks_for_help(text: str) -> None:
    assert parse(text) == CallCommand("help")


@pytest.mark.parametrize("verb", ["end", "join", "leave", "status", "help"])
def test_verbs_without_arguments(verb: str) -> None:
    assert parse(verb) == CallCommand(verb)
    assert parse(f"  {verb}  ") == CallCommand(verb)


def test_start_alone_has_nothing_but_the_verb() -> None:
    assert parse("start") == CallCommand("start", title=None, invitees=(), join_url=None)


@pytest.mark.parametrize(
    ("text", "verb"),
    [("START", "start"), ("Status", "status"), ("eNd", "end"), ("HELP", "help"), ("Join", "join")],
)
def test_verb_is_case_insensitive(text: str, verb: str) -> None:
    assert parse(text).verb == verb


def test_verb_case_does_not_change_the_title() -> None:
    assert parse("START Weekly Sync") == CallCommand("start", title="Weekly Sync")
    assert parse("RENAME Daily Standup") == CallCommand("rename", title="Daily Standup")


def test_every_verb_parses() -> None:
    for verb in Verb:
        text = f"{verb} New title" if verb == "rename" else verb
        assert parse(text).verb == verb


@pytest.mark.parametrize("verb", ["frobnicate", "stop", "begin"])
def test_unknown_verb_is_named_in_the_error(verb: str) -> None:
    assert f"`{verb}`" in usage_error(f"{verb} some title")


def test_unknown_verb_in_the_error_is_cut_short() -> None:
    message = usage_error("x" * 500)
    assert "x" * 40 in message
    assert "x" * 41 not in message


@pytest.mark.parametrize("verb", ["end", "join", "leave", "status"])
@pytest.mark.parametrize("extra", ["now", "the call", "<@U123|bob>", "<https://x.example>"])
def test_text_after_a_verb_that_takes_none_is_refused(verb: str, extra: str) -> None:
    assert f"/call {verb}" in usage_error(f"{verb} {extra}")


@pytest.mark.parametrize("separator", ["\n", "\t"])
def test_any_whitespace_separates_the_verb(separator: str) -> None:
    assert parse(f"rename{separator}New title") == CallCommand("rename", title="New title")


# -- rename -----------------------------------------------------------------------------------


def test_rename_takes_the_rest_as_title() -> None:
    assert parse("rename   Q3 planning  ") == CallCommand("rename", title="Q3 planning")


@pytest.mark.parametrize("text", ["rename", "rename   ", "RENAME"])
def test_rename_without_title_is_refused(text: str) -> None:
    assert "/call rename" in usage_error(text)


def test_rename_title_is_made_harmless() -> None:
    command = parse("rename <!channel> sync with <@U123|bob> &amp; <#C9|ops> <https://x.example|x>")
    assert command == CallCommand(
        "rename", title="@channel sync with @bob & #ops https://x.example"
    )


# -- start: people ----------------------------------------------------------------------------


def test_start_with_title_people_and_link() -> None:
    command = parse(
        "start Weekly sync <@U123|bob> <@W456> <https://meet.example/r?b=1&amp;c=2> notes"
    )
    assert command == CallCommand(
        "start",
        title="Weekly sync notes",
        invitees=("U123", "W456"),
        join_url="https://meet.example/r?b=1&c=2",
    )


def test_start_mentions_with_and_without_label() -> None:
    assert parse("start <@U123|bob>").invitees == ("U123",)
    assert parse("start <@W123>").invitees == ("W123",)


def test_start_mentions_are_deduplicated_in_order() -> None:
    command = parse("start <@U2|b> <@U1|a> <@U2> <@U1|again> <@W3> <@U2|b>")
    assert command.invitees == ("U2", "U1", "W3")
    assert command.title is None


def test_start_with_only_people_has_no_title() -> None:
    assert parse("start <@U1|a> <@U2|b>") == CallCommand("start", invitees=("U1", "U2"))


# -- start: links -----------------------------------------------------------------------------


def test_link_in_slack_escaped_form_is_unescaped() -> None:
    command = parse("start <https://x.example/a?b=1&amp;c=2>")
    assert command.join_url == "https://x.example/a?b=1&c=2"
    assert command.title is None


def test_link_with_label_uses_the_url_not_the_label() -> None:
    command = parse("start Retro <https://x|label>")
    assert command.join_url == "https://x"
    assert command.title == "Retro"


def test_bare_link_is_the_join_url() -> None:
    command = parse("start Retro https://meet.example/r?a=1&amp;b=2")
    assert command.join_url == "https://meet.example/r?a=1&b=2"
    assert command.title == "Retro"


@pytest.mark.parametrize(
    "link",
    [
        "<http://meet.example/r>",
        "<http://meet.example/r|meet>",
        "http://meet.example/r",
        "<HTTP://meet.example/r>",
        "ftp://files.example/r",
        "<https://>",
    ],
)
def test_non_https_link_is_refused(link: str) -> None:
    assert "https://" in usage_error(f"start Retro {link}")


@pytest.mark.parametrize(
    "links",
    [
        "<https://a.example/1> <https://b.example/2>",
        "https://a.example/1 <https://b.example/2|b>",
        "https://a.example/1 https://a.example/1",
    ],
)
def test_two_links_are_refused(links: str) -> None:
    assert "one link" in usage_error(f"start Retro {links}")


def test_link_of_2000_characters_is_accepted() -> None:
    url = "https://x.example/" + "a" * (2000 - len("https://x.example/"))
    assert len(url) == 2000
    assert parse(f"start <{url}>").join_url == url


@pytest.mark.parametrize("form", ["<{}>", "{}", "<{}|join>"])
def test_link_over_2000_characters_is_refused(form: str) -> None:
    url = "https://x.example/" + "a" * 2000
    assert "too long" in usage_error("start " + form.format(url))


def test_link_length_is_counted_unescaped() -> None:
    # Under 2000 characters once &amp; becomes &, well over 2000 as Slack sends it.
    url = "https://x.example/?" + "a=1&" * 492 + "z"
    assert len(url) <= 2000
    escaped = url.replace("&", "&amp;")
    assert len(escaped) > 2000
    assert parse(f"start <{escaped}>").join_url == url


# -- start: titles ----------------------------------------------------------------------------


def test_special_mentions_become_readable_harmless_text() -> None:
    command = parse("start Standup <!channel> <!here> <!subteam^S1|@team> <#C123|general>")
    assert command.title == "Standup @channel @here @team #general"
    assert command.invitees == ()
    assert command.join_url is None


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("<!channel>", "@channel"),
        ("<!here>", "@here"),
        ("<!everyone>", "@everyone"),
        ("<!here|here>", "@here"),
        ("<!subteam^S1|@team>", "@team"),
        ("<!subteam^SABC123|@eng-leads>", "@eng-leads"),
        ("<#C123|general>", "#general"),
        ("<#G42|secret-room>", "#secret-room"),
    ],
)
def test_each_special_mention_in_a_title(token: str, shown: str) -> None:
    title = parse(f"start Call {token} now").title
    assert title == f"Call {shown} now"
    assert "<" not in title and ">" not in title


def test_entities_are_unescaped_in_titles() -> None:
    assert parse("start Q&amp;A &lt;draft&gt;").title == "Q&A <draft>"


def test_typed_angle_brackets_stay_text_in_the_title() -> None:
    # Someone typing "<!channel>" literally: Slack sends entities, the title is plain text.
    assert parse("start &lt;!channel&gt;").title == "<!channel>"


def test_title_of_exactly_150_characters_is_kept() -> None:
    title = "t" * MAX_TITLE_LENGTH
    assert parse(f"start {title}").title == title


@pytest.mark.parametrize(
    ("raw", "kept"),
    [("x" * 400, "x" * 149), ("&amp;" * 200, "&" * 149), ("é" * 151, "é" * 149)],
)
def test_long_title_is_cut_to_exactly_150_with_an_ellipsis(raw: str, kept: str) -> None:
    title = parse(f"start {raw}").title
    assert title is not None
    assert len(title) == MAX_TITLE_LENGTH == 150
    assert title == kept + "…"


def test_long_title_of_words_is_cut_to_at_most_150_with_an_ellipsis() -> None:
    title = parse("start " + "word " * 100).title
    assert title is not None
    assert len(title) <= MAX_TITLE_LENGTH
    assert title.endswith("…")
    assert title.startswith("word word")


def test_long_rename_title_is_cut_too() -> None:
    title = parse("rename " + "y" * 1000).title
    assert title == "y" * 149 + "…"
