"""Parsing what follows `/call`: a verb, then a title, people and a link where the verb takes them.

Slack sends the text with mentions escaped (`<@U123|bob>`), links in angle brackets and
&, <, > as entities; titles come out as plain text, with special mentions made harmless.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from calls_app import wording
from calls_app.errors import UsageError
from calls_app.records import MAX_TITLE_LENGTH, Verb
from calls_app.text import truncate

_TOKEN = re.compile(r"<[^<>]*>|\S+")
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_LINK = re.compile(r"^<((?:https?|ftp|mailto)[^|>]*)(?:\|[^>]*)?>$", re.IGNORECASE)
_BARE_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)
_CHANNEL_REF = re.compile(r"^<#[CG][A-Z0-9]+\|([^>]*)>$")
_SPECIAL = re.compile(r"^<!(?:subteam\^[A-Z0-9]+\|)?@?([^>|]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class CallCommand:
    verb: Verb
    title: str | None = None
    invitees: tuple[str, ...] = field(default=())
    join_url: str | None = None


def parse(text: str) -> CallCommand:
    """The command, or UsageError saying what is wrong."""
    text = text.strip()
    if not text:
        return CallCommand(Verb.HELP)
    word, rest = (text.split(None, 1) + [""])[:2]  # any whitespace: shift-enter gives a newline
    word, rest = word.lower(), rest.strip()
    if word not in list(Verb):
        raise UsageError(wording.unknown_verb(word))
    verb = Verb(word)
    if verb == Verb.START:
        return _parse_start(rest)
    if verb == Verb.RENAME:
        title = _plain_title(_TOKEN.findall(rest))
        if not title:
            raise UsageError(wording.RENAME_NEEDS_TITLE)
        return CallCommand(Verb.RENAME, title=title)
    if rest:
        raise UsageError(wording.takes_nothing_after(verb))
    return CallCommand(verb)


def _parse_start(rest: str) -> CallCommand:
    invitees: list[str] = []
    join_url: str | None = None
    words: list[str] = []
    for token in _TOKEN.findall(rest):
        if mention := _USER_MENTION.match(token):
            if mention.group(1) not in invitees:
                invitees.append(mention.group(1))
            continue
        url = _url_in(token)
        if url is None:
            words.append(token)
            continue
        if join_url is not None:
            raise UsageError(wording.ONE_LINK_AT_MOST)
        join_url = _https_join_url(url)
    return CallCommand(
        Verb.START, title=_plain_title(words) or None, invitees=tuple(invitees), join_url=join_url
    )


def _url_in(token: str) -> str | None:
    if link := _LINK.match(token):
        return html.unescape(link.group(1))
    if _BARE_URL.match(token):
        return html.unescape(token)
    return None


def _https_join_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. "https://[abc": not a URL at all
        raise UsageError(wording.not_a_link(url)) from None
    if parts.scheme.lower() != "https" or not hostname:
        raise UsageError(wording.https_only(url))
    if len(url) > 2000:
        raise UsageError(wording.LINK_TOO_LONG)
    return url


def _plain_title(tokens: list[str]) -> str:
    """Readable text: mentions become @name / #name so nothing in a title notifies anyone."""
    words = []
    for token in tokens:
        if channel := _CHANNEL_REF.match(token):
            words.append("#" + channel.group(1))
        elif special := _SPECIAL.match(token):
            words.append("@" + special.group(1))
        elif mention := _USER_MENTION.match(token):
            words.append("@" + (mention.group(2) or mention.group(1)))
        elif link := _LINK.match(token):
            words.append(link.group(1))
        else:
            words.append(token)
    return truncate(html.unescape(" ".join(words)).strip(), MAX_TITLE_LENGTH)
