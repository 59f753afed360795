"""Block Kit as Slack checks it: every violation of a message's or a view's blocks, each with a
json-pointer like Slack's own messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local_slack.web_api.errors import SlackError

MAX_MESSAGE_BLOCKS = 50

TEXT_TYPES = ("plain_text", "mrkdwn")
SELECT_TYPES = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
ACTIONS_ELEMENTS = SELECT_TYPES | {
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "overflow",
    "radio_buttons",
    "timepicker",
    "workflow_button",
}
INPUT_ELEMENTS = SELECT_TYPES | {
    "plain_text_input",
    "number_input",
    "email_text_input",
    "url_text_input",
    "checkboxes",
    "radio_buttons",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "file_input",
    "rich_text_input",
}
ACCESSORY_ELEMENTS = SELECT_TYPES | {
    "button",
    "checkboxes",
    "datepicker",
    "image",
    "overflow",
    "radio_buttons",
    "timepicker",
    "workflow_button",
}
TEXT_INPUT_TYPES = frozenset(
    {"plain_text_input", "number_input", "email_text_input", "url_text_input", "rich_text_input"}
)
PICKER_TYPES = frozenset({"datepicker", "timepicker", "datetimepicker", "file_input"})


class BlockKitValidator:
    """Checks blocks the way Slack does and collects *every* violation.

    Each reason ends with a json-pointer like Slack's own messages
    (``... [json-pointer:/blocks/0/text/text]``) so a failing test says exactly where.
    One validator covers one message or one view: block_ids must be unique across it.
    """

    def __init__(self, call_exists: Callable[[str], bool]) -> None:
        self.errors: list[str] = []
        self._call_exists = call_exists
        self._block_ids: set[str] = set()

    def fail(self, pointer: str, reason: str) -> None:
        self.errors.append(f"{reason} [json-pointer:{pointer}]")

    def check_blocks(self, blocks: Any, *, limit: int, where: str = "/blocks") -> list[str]:
        if not isinstance(blocks, list):
            self.fail(where, "must be a JSON array of blocks")
            return self.errors
        if len(blocks) > limit:
            self.fail(where, f"has {len(blocks)} blocks; at most {limit} are allowed")
        for index, block in enumerate(blocks):
            self._block(block, f"{where}/{index}")
        return self.errors

    # -- primitives

    def check_string(
        self, value: Any, pointer: str, *, max_len: int, required: bool = True
    ) -> None:
        if value is None:
            if required:
                self.fail(pointer, "is required")
            return
        if not isinstance(value, str) or not value:
            self.fail(pointer, f"must be a non-empty string, got {value!r}")
        elif len(value) > max_len:
            self.fail(pointer, f"is {len(value)} characters; at most {max_len} are allowed")

    def check_text(
        self,
        obj: Any,
        pointer: str,
        *,
        max_len: int,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        """A text object: {"type": "plain_text"|"mrkdwn", "text": non-empty string}."""
        if obj is None:
            if required:
                self.fail(pointer, "is required")
            return
        if not isinstance(obj, dict):
            self.fail(pointer, f"must be a text object {{type, text}}, got {obj!r}")
            return
        kind = obj.get("type")
        if kind not in TEXT_TYPES:
            self.fail(f"{pointer}/type", f"must be plain_text or mrkdwn, got {kind!r}")
        elif plain_only and kind != "plain_text":
            self.fail(f"{pointer}/type", f"must be plain_text here, got {kind!r}")
        if kind == "mrkdwn" and "emoji" in obj:
            self.fail(f"{pointer}/emoji", "emoji is only allowed on plain_text")
        if "verbatim" in obj and (kind != "mrkdwn" or not isinstance(obj["verbatim"], bool)):
            self.fail(f"{pointer}/verbatim", "verbatim is a boolean, allowed only on mrkdwn")
        self.check_string(obj.get("text"), f"{pointer}/text", max_len=max_len)

    def check_optional_plain(self, obj: Any, pointer: str, *, max_len: int) -> None:
        """An optional plain_text object: a placeholder, a hint, a title, a modal's buttons."""
        self.check_text(obj, pointer, max_len=max_len, plain_only=True, required=False)

    def _list(self, value: Any, pointer: str, *, max_items: int, what: str) -> list:
        if not isinstance(value, list) or not value:
            self.fail(pointer, f"must be a non-empty array of {what}")
            return []
        if len(value) > max_items:
            self.fail(pointer, f"has {len(value)} {what}; at most {max_items} are allowed")
        return value

    # -- blocks

    def _block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail(pointer, f"a block must be an object, got {block!r}")
            return
        kind = block.get("type")
        check = self._BLOCK_CHECKS.get(kind) if isinstance(kind, str) else None
        if check is None:
            known = ", ".join(sorted(self._BLOCK_CHECKS))
            self.fail(f"{pointer}/type", f"unknown block type {kind!r}; expected one of {known}")
            return
        self._block_id(block, pointer)
        check(self, block, pointer)

    def _block_id(self, block: dict, pointer: str) -> None:
        if "block_id" not in block:
            return
        block_id = block["block_id"]
        self.check_string(block_id, f"{pointer}/block_id", max_len=255)
        if isinstance(block_id, str):
            if block_id in self._block_ids:
                self.fail(f"{pointer}/block_id", f"duplicate block_id {block_id!r}")
            self._block_ids.add(block_id)

    def _section(self, block: dict, pointer: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            self.fail(pointer, "a section block needs text or fields")
        if text is not None:
            self.check_text(text, f"{pointer}/text", max_len=3000)
        if fields is not None:
            for index, item in enumerate(
                self._list(fields, f"{pointer}/fields", max_items=10, what="fields")
            ):
                self.check_text(item, f"{pointer}/fields/{index}", max_len=2000)
        if "accessory" in block:
            self._element(
                block["accessory"], f"{pointer}/accessory", allowed=ACCESSORY_ELEMENTS, seen=set()
            )

    def _header(self, block: dict, pointer: str) -> None:
        self.check_text(block.get("text"), f"{pointer}/text", max_len=150, plain_only=True)

    def _actions(self, block: dict, pointer: str) -> None:
        elements = self._list(
            block.get("elements"), f"{pointer}/elements", max_items=25, what="elements"
        )
        seen: set[str] = set()
        for index, element in enumerate(elements):
            where = f"{pointer}/elements/{index}"
            self._element(element, where, allowed=ACTIONS_ELEMENTS, seen=seen)

    def _context(self, block: dict, pointer: str) -> None:
        elements = self._list(
            block.get("elements"), f"{pointer}/elements", max_items=10, what="elements"
        )
        for index, element in enumerate(elements):
            where = f"{pointer}/elements/{index}"
            if isinstance(element, dict) and element.get("type") == "image":
                self._image_element(element, where)
            else:
                self.check_text(element, where, max_len=3000)

    def _divider(self, block: dict, pointer: str) -> None:
        """A divider has nothing to check."""

    def _call(self, block: dict, pointer: str) -> None:
        call_id = block.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            self.fail(f"{pointer}/call_id", "a call block needs call_id")
        elif not self._call_exists(call_id):
            self.fail(
                f"{pointer}/call_id",
                f"call_id {call_id!r} is not a call of this workspace (register it with calls.add)",
            )

    def _image(self, block: dict, pointer: str) -> None:
        self._image_element(block, pointer)
        self.check_optional_plain(block.get("title"), f"{pointer}/title", max_len=2000)

    def _input(self, block: dict, pointer: str) -> None:
        self.check_text(block.get("label"), f"{pointer}/label", max_len=2000, plain_only=True)
        self.check_optional_plain(block.get("hint"), f"{pointer}/hint", max_len=2000)
        if "element" not in block:
            self.fail(f"{pointer}/element", "an input block needs an element")
        else:
            where = f"{pointer}/element"
            self._element(block["element"], where, allowed=INPUT_ELEMENTS, seen=set())
        if "optional" in block and not isinstance(block["optional"], bool):
            self.fail(f"{pointer}/optional", "must be a boolean")

    def _rich_text(self, block: dict, pointer: str) -> None:
        self._list(block.get("elements"), f"{pointer}/elements", max_items=1000, what="elements")

    _BLOCK_CHECKS: dict[str, Callable[[BlockKitValidator, dict, str], None]] = {
        "section": _section,
        "header": _header,
        "actions": _actions,
        "context": _context,
        "divider": _divider,
        "call": _call,
        "image": _image,
        "input": _input,
        "rich_text": _rich_text,
    }

    # -- elements

    def _element(
        self, element: Any, pointer: str, *, allowed: frozenset[str], seen: set[str]
    ) -> None:
        """An interactive element; ``seen`` holds the action_ids already used in this block."""
        if not isinstance(element, dict):
            self.fail(pointer, f"an element must be an object, got {element!r}")
            return
        kind = element.get("type")
        if kind not in allowed:
            self.fail(
                f"{pointer}/type",
                f"element type {kind!r} is not allowed here; expected one of "
                + ", ".join(sorted(allowed)),
            )
            return
        if "action_id" in element:
            action_id = element["action_id"]
            self.check_string(action_id, f"{pointer}/action_id", max_len=255)
            if isinstance(action_id, str):
                if action_id in seen:
                    self.fail(f"{pointer}/action_id", f"duplicate action_id {action_id!r}")
                seen.add(action_id)
        check = self._ELEMENT_CHECKS.get(kind)
        if check is not None:
            check(self, element, pointer)

    def _button(self, element: dict, pointer: str) -> None:
        self.check_text(element.get("text"), f"{pointer}/text", max_len=75, plain_only=True)
        self.check_string(element.get("value"), f"{pointer}/value", max_len=2000, required=False)
        self.check_string(element.get("url"), f"{pointer}/url", max_len=3000, required=False)
        style = element.get("style")
        if style is not None and style not in ("primary", "danger"):
            self.fail(f"{pointer}/style", f"must be primary or danger, got {style!r}")

    def _placeholder(self, element: dict, pointer: str) -> None:
        self.check_optional_plain(element.get("placeholder"), f"{pointer}/placeholder", max_len=150)

    def _select(self, element: dict, pointer: str) -> None:
        self._placeholder(element, pointer)
        static = element["type"] in ("static_select", "multi_static_select")
        if static and "option_groups" not in element:  # the others load options from elsewhere
            self._options(element, pointer, max_items=100, plain_only=True)

    def _overflow(self, element: dict, pointer: str) -> None:
        self._options(element, pointer, max_items=5, plain_only=True)

    def _choices(self, element: dict, pointer: str) -> None:
        """Checkboxes and radio buttons: their options' text may be mrkdwn."""
        self._options(element, pointer, max_items=10, plain_only=False)

    def _text_input(self, element: dict, pointer: str) -> None:
        self._placeholder(element, pointer)
        max_length = element.get("max_length")
        if max_length is not None and (not isinstance(max_length, int) or max_length > 3000):
            self.fail(f"{pointer}/max_length", "must be an integer of at most 3000")

    def _options(self, element: dict, pointer: str, *, max_items: int, plain_only: bool) -> None:
        """An element's ``options``: a non-empty list of at most ``max_items`` option objects."""
        options = self._list(
            element.get("options"), f"{pointer}/options", max_items=max_items, what="options"
        )
        for index, option in enumerate(options):
            where = f"{pointer}/options/{index}"
            if not isinstance(option, dict):
                self.fail(where, f"an option must be an object, got {option!r}")
                continue
            self.check_text(option.get("text"), f"{where}/text", max_len=75, plain_only=plain_only)
            self.check_string(option.get("value"), f"{where}/value", max_len=150)
            self.check_optional_plain(option.get("description"), f"{where}/description", max_len=75)

    def _image_element(self, element: dict, pointer: str) -> None:
        if "slack_file" not in element:
            self.check_string(element.get("image_url"), f"{pointer}/image_url", max_len=3000)
        self.check_string(element.get("alt_text"), f"{pointer}/alt_text", max_len=2000)

    _ELEMENT_CHECKS: dict[str, Callable[[BlockKitValidator, dict, str], None]] = {
        "button": _button,
        "overflow": _overflow,
        "checkboxes": _choices,
        "radio_buttons": _choices,
        "image": _image_element,
        **dict.fromkeys(SELECT_TYPES, _select),
        **dict.fromkeys(TEXT_INPUT_TYPES, _text_input),
        **dict.fromkeys(PICKER_TYPES, _placeholder),
    }


def check_message_blocks(
    blocks: Any, call_exists: Callable[[str], bool], *, error: str = "invalid_blocks"
) -> None:
    """Blocks of a message (decoded already); refuse with every reason found."""
    if not isinstance(blocks, list):
        raise SlackError(
            "invalid_blocks_format",
            messages=[f"blocks must be a JSON array, got {type(blocks).__name__}"],
        )
    errors = BlockKitValidator(call_exists).check_blocks(blocks, limit=MAX_MESSAGE_BLOCKS)
    if errors:
        raise SlackError(error, messages=errors)
