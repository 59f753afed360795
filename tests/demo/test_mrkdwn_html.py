"""Slack's text formats as the local Slack shows them: markup made, everything else escaped."""

from __future__ import annotations

import pytest

from local_slack.mrkdwn_html import mrkdwn, plain_text

NAMES = {"U1": "Ada Okafor", "C1": "general"}


def show(text: str) -> str:
    return mrkdwn(text, user_name=NAMES.get, channel_name=NAMES.get)


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*Standup* _now_ ~never~", "<strong>Standup</strong> <em>now</em> <s>never</s>"),
        ("use `/call start`", "use <code>/call start</code>"),
        (
            "<@U1> in <#C1>",
            '<span class="mention">@Ada Okafor</span> in <span class="mention">#general</span>',
        ),
        ("<#C9|design>", '<span class="mention">#design</span>'),
        ("<!here>", '<span class="mention">@here</span>'),
        ("<!date^1700000000^{date_short_pretty}|Nov 14>", "Nov 14"),
        (
            "<https://e.x/a?b=1&amp;c=2|the call>",
            '<a href="https://e.x/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">'
            "the call</a>",
        ),
        (":warning: careful", "⚠️ careful"),
        (":not_an_emoji_we_know:", ":not_an_emoji_we_know:"),
        ("a\nb", "a<br>b"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("snake_case_name", "snake_case_name"),
    ],
)
def test_mrkdwn_is_shown_as_slack_shows_it(text: str, html: str) -> None:
    assert show(text) == html


@pytest.mark.parametrize(
    ("text", "html"),
    [
        # what the app escaped stays text, once: no markup, no double escaping
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("Tom &amp; Jerry", "Tom &amp; Jerry"),
        ("&amp;lt;b&amp;gt;", "&amp;lt;b&amp;gt;"),
        ("<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"),
        ('<https://e.x/"onmouseover="x|a>', '<a href="https://e.x/&quot;onmouseover=&quot;x"'),
        ("`<b>`", "<code>&lt;b&gt;</code>"),
    ],
)
def test_nothing_but_markup_becomes_html(text: str, html: str) -> None:
    assert show(text).startswith(html)


def test_plain_text_is_escaped_and_may_keep_its_emoji_codes() -> None:
    assert plain_text("<b>:tada:</b>") == "&lt;b&gt;🎉&lt;/b&gt;"
    assert plain_text(":tada:", with_emoji=False) == ":tada:"
