"""A modal as HTML: its title, blocks, inputs (with what the person entered and the field errors
the app answered), and its submit and close buttons.

Each input's form field is named ``block:<block_id>``; ``interactions.state_values`` turns what
comes back into the ``state.values`` Slack sends with a view_submission.
"""

from __future__ import annotations

from collections.abc import Mapping

from local_slack.blockkit_html import Surface, attr, block_html, hidden_fields, text_html
from local_slack.mrkdwn_html import plain_text
from local_slack.timeline import Modal

CHANNEL_SELECTS = ("conversations_select", "channels_select")
TEXT_INPUTS = {
    "plain_text_input": "text",
    "number_input": "number",
    "email_text_input": "email",
    "url_text_input": "url",
}


def field_name(block_id: str) -> str:
    return f"block:{block_id}"


def modal_html(view: dict, modal: Modal, surface: Surface) -> str:
    """The open modal, over the page."""
    view_id = view["id"]
    blocks = []
    for index, block in enumerate(view.get("blocks", [])):
        if block.get("type") == "input":
            blocks.append(_input_block(block, modal, surface))
        else:
            blocks.append(block_html(block, index, surface))
    general = modal.errors.get("")
    problem = f'<p class="modal-error" role="alert">{plain_text(general)}</p>' if general else ""
    close_label = text_html(view.get("close"), surface) or "Cancel"
    submit = (
        f'<button type="submit" class="btn primary">{text_html(view["submit"], surface)}</button>'
        if view.get("submit")
        else ""
    )
    fields = hidden_fields({**surface.page, "view": view_id})
    title = text_html(view.get("title"), surface)
    return (
        '<div class="overlay">'
        '<div class="modal" role="dialog" aria-modal="true" aria-labelledby="modal-title">'
        f'<form id="close-modal" method="post" action="/close">{fields}</form>'
        f'<form class="modal-form" method="post" action="/submit" novalidate>{fields}'
        f'<header><h2 id="modal-title">{title}</h2>'
        '<button type="submit" form="close-modal" class="icon" aria-label="Close">×</button>'
        f'</header><div class="modal-body">{"".join(blocks)}</div>{problem}'
        f'<footer><button type="submit" form="close-modal" class="btn">{close_label}</button>'
        f"{submit}</footer></form></div></div>"
    )


def _input_block(block: dict, modal: Modal, surface: Surface) -> str:
    block_id = str(block.get("block_id", ""))
    element = block.get("element", {})
    entered = modal.values.get(block_id) if modal.values else None
    field_id = f"input-{attr(block_id)}"
    control = _control(element, field_id, field_name(block_id), entered, surface)
    optional = ' <span class="optional">(optional)</span>' if block.get("optional") else ""
    hint = f'<p class="hint">{text_html(block["hint"], surface)}</p>' if block.get("hint") else ""
    error = modal.errors.get(block_id)
    problem = f'<p class="field-error" role="alert">{plain_text(error)}</p>' if error else ""
    return (
        f'<div class="block input{" has-error" if error else ""}">'
        f'<label for="{field_id}">{text_html(block.get("label"), surface)}{optional}</label>'
        f"{control}{hint}{problem}</div>"
    )


def _control(
    element: dict, field_id: str, name: str, entered: list[str] | None, surface: Surface
) -> str:
    kind = element.get("type")
    if kind in TEXT_INPUTS:
        value = entered[0] if entered else str(element.get("initial_value") or "")
        limit = element.get("max_length")
        maxlength = f' maxlength="{int(limit)}"' if isinstance(limit, int) else ""
        placeholder = _placeholder(element)
        if element.get("multiline"):
            return (
                f'<textarea id="{field_id}" name="{name}"{maxlength}{placeholder}>'
                f"{attr(value)}</textarea>"
            )
        return (
            f'<input id="{field_id}" name="{name}" type="{TEXT_INPUTS[kind]}" '
            f'value="{attr(value)}"{maxlength}{placeholder} autocomplete="off">'
        )
    if kind in CHANNEL_SELECTS:
        initial = element.get("initial_conversation") or element.get("initial_channel")
        chosen = entered if entered is not None else [initial] if initial else []
        choices = [(c.id, f"#{c.name}") for c in surface.workspace.channels]
        return _select(field_id, name, choices, chosen, _placeholder_text(element))
    if kind == "users_select":
        initial = element.get("initial_user")
        chosen = entered if entered is not None else [initial] if initial else []
        choices = [(p.id, p.name) for p in surface.workspace.people]
        return _select(field_id, name, choices, chosen, _placeholder_text(element))
    if kind == "multi_users_select":
        chosen = entered if entered is not None else list(element.get("initial_users") or [])
        choices = [(p.id, p.name) for p in surface.workspace.people]
        return _checkboxes(field_id, name, choices, chosen)
    if kind in ("static_select", "multi_static_select"):
        options = [
            (str(o.get("value", "")), str(o.get("text", {}).get("text", "")))
            for o in element.get("options", [])
        ]
        if kind == "multi_static_select":
            initial = [o.get("value") for o in element.get("initial_options") or []]
            return _checkboxes(field_id, name, options, entered or initial)
        initial_option = (element.get("initial_option") or {}).get("value")
        chosen = entered if entered is not None else [initial_option] if initial_option else []
        return _select(field_id, name, options, chosen, _placeholder_text(element))
    return f'<p id="{field_id}" class="unsupported">[{attr(str(kind))} input]</p>'


def _placeholder_text(element: dict) -> str:
    placeholder = element.get("placeholder")
    return str(placeholder.get("text", "")) if isinstance(placeholder, Mapping) else ""


def _placeholder(element: dict) -> str:
    text = _placeholder_text(element)
    return f' placeholder="{attr(text)}"' if text else ""


def _select(
    field_id: str, name: str, choices: list[tuple[str, str]], chosen: list[str], placeholder: str
) -> str:
    options = [f'<option value="">{plain_text(placeholder or "Choose…")}</option>']
    for value, label in choices:
        selected = " selected" if value in chosen else ""
        options.append(f'<option value="{attr(value)}"{selected}>{plain_text(label)}</option>')
    return f'<select id="{field_id}" name="{name}">{"".join(options)}</select>'


def _checkboxes(field_id: str, name: str, choices: list[tuple[str, str]], chosen: list[str]) -> str:
    boxes = []
    for value, label in choices:
        checked = " checked" if value in chosen else ""
        boxes.append(
            f'<label class="choice"><input type="checkbox" name="{name}" '
            f'value="{attr(value)}"{checked}> {plain_text(label)}</label>'
        )
    return f'<div id="{field_id}" class="choices">{"".join(boxes)}</div>'
