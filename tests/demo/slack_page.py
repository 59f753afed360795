"""The local Slack's page as a person uses it, through headless Chromium: controls are found by
what they are labelled, as a person finds them. The page replaces parts of itself when the app
answers, so every look-up is retried until it holds or the time is up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

T = TypeVar("T")
TIMEOUT = 10.0
RETRIED = (NoSuchElementException, StaleElementReferenceException)


def xpath_text(text: str) -> str:
    """A string literal for XPath, whatever quotes ``text`` holds."""
    if "'" not in text:
        return f"'{text}'"
    return "concat('" + "', \"'\", '".join(text.split("'")) + "')"


class SlackPage:
    def __init__(self, browser: WebDriver, page_url: str) -> None:
        self.browser = browser
        self.page_url = page_url

    # ---------------------------------------------------------------- waiting

    def until(self, probe: Callable[[], T | None], what: str, timeout: float = TIMEOUT) -> T:
        """``probe()``'s first truthy answer; the page changing under it is tried again."""
        deadline = time.monotonic() + timeout
        last: object = None
        while True:
            try:
                answer = probe()
                if answer:
                    return answer
                last = answer
            except RETRIED as error:
                last = error
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what} (last: {last!r})\n"
                    f"the conversation:\n{self.safe_main_text()}"
                )
            time.sleep(0.1)

    def safe_main_text(self) -> str:
        try:
            return self.browser.find_element(By.ID, "main").text
        except WebDriverException:
            return "(unreadable)"

    # ---------------------------------------------------------------- where and who

    def open(self, *, person: str, at: str, tab: str = "home") -> SlackPage:
        self.browser.get(f"{self.page_url}/?{urlencode({'as': person, 'at': at, 'tab': tab})}")
        self.until(
            lambda: self.browser.execute_script("return document.readyState") == "complete",
            "the page to load",
        )
        return self

    def be(self, name: str) -> None:
        """Pick ``name`` in the "You are" control."""
        label = self.browser.find_element(By.XPATH, "//label[normalize-space()='You are']")
        control = self.browser.find_element(By.ID, label.get_attribute("for"))
        select = Select(control)
        labels = [option.text.removesuffix(" (admin)") for option in select.options]
        select.select_by_index(labels.index(name))
        self.until(lambda: self.you() == name, f"the page to be {name}'s")

    def you(self) -> str:
        control = self.browser.find_element(By.ID, "you")
        return Select(control).first_selected_option.text.removesuffix(" (admin)")

    def go_to(self, link_text: str) -> None:
        """A conversation or tab by its name in the sidebar or the tab bar."""
        self.browser.find_element(
            By.XPATH,
            f"//nav//a[normalize-space()={xpath_text(link_text)}]"
            f" | //*[@role='tablist']/a[normalize-space()={xpath_text(link_text)}]",
        ).click()
        self.until(
            lambda: self.browser.execute_script("return document.readyState") == "complete",
            "the page to load",
        )

    # ---------------------------------------------------------------- the conversation

    def say(self, text: str) -> None:
        """Type in the Message box and press Enter."""
        box = self.browser.find_element(By.CSS_SELECTOR, "input[aria-label='Message']")
        box.send_keys(text, Keys.ENTER)
        self.until(lambda: box.get_attribute("value") == "", "the Message box to clear")

    def main_text(self) -> str:
        return self.browser.find_element(By.ID, "main").text

    def wait_to_see(self, text: str, timeout: float = TIMEOUT) -> None:
        self.until(lambda: text in self.main_text(), f"{text!r} on the page", timeout)

    def items(self) -> list[WebElement]:
        return self.browser.find_elements(By.CSS_SELECTOR, "#main .timeline > li.item")

    def private_items_text(self) -> list[str]:
        return [
            item.text
            for item in self.browser.find_elements(By.CSS_SELECTOR, "#main li.item.private")
        ]

    # ---------------------------------------------------------------- the call card

    def card(self) -> WebElement:
        """The last call card in the conversation."""
        return self.browser.find_elements(By.CSS_SELECTOR, "#main .call-card")[-1]

    def card_title(self) -> str:
        return self.card().find_element(By.CSS_SELECTOR, ".call-title").text

    def card_people(self) -> list[str]:
        return [
            name.text for name in self.card().find_elements(By.CSS_SELECTOR, ".call-people .name")
        ]

    def card_status(self) -> str:
        return self.card().find_element(By.CSS_SELECTOR, ".call-status").text

    def wait_for_card(self, check: Callable[[], bool], what: str) -> None:
        self.until(
            lambda: self.browser.find_elements(By.CSS_SELECTOR, "#main .call-card") and check(),
            what,
        )

    # ---------------------------------------------------------------- buttons

    def buttons(self, scope: str = "#main") -> list[str]:
        return [b.text for b in self.browser.find_elements(By.CSS_SELECTOR, f"{scope} button")]

    def press(self, label: str, *, in_message_with: str | None = None) -> None:
        """Press the button labelled ``label`` (the last one, in the message containing
        ``in_message_with`` if given)."""
        item = (
            f"//li[contains(@class,'item')][contains(normalize-space(.), "
            f"{xpath_text(in_message_with)})]"
            if in_message_with
            else "//main"
        )
        path = f"({item}//button[normalize-space()={xpath_text(label)}])[last()]"

        def click() -> bool:
            self.browser.find_element(By.XPATH, path).click()
            return True

        self.until(click, f"a {label!r} button to press")

    # ---------------------------------------------------------------- modals

    def modal(self) -> WebElement:
        return self.browser.find_element(By.CSS_SELECTOR, "#modal [role='dialog']")

    def modal_title(self) -> str:
        found = self.browser.find_elements(By.CSS_SELECTOR, "#modal [role='dialog'] h2")
        return found[0].text if found else ""

    def wait_for_modal(self, title: str) -> None:
        self.until(lambda: self.modal_title() == title, f"the {title!r} modal")

    def wait_modal_closed(self) -> None:
        self.until(
            lambda: not self.browser.find_elements(By.CSS_SELECTOR, "#modal *"),
            "the modal to close",
        )

    def field(self, label: str) -> WebElement:
        """A modal input by its label (the label's text before any "(optional)")."""
        labels = self.modal().find_elements(By.CSS_SELECTOR, ".block.input > label")
        for found in labels:
            if found.text.removesuffix("(optional)").strip() == label:
                return self.browser.find_element(By.ID, found.get_attribute("for"))
        raise NoSuchElementException(f"no field labelled {label!r}")

    def fill(self, label: str, text: str) -> None:
        field = self.field(label)
        field.clear()
        if text:
            field.send_keys(text)

    def choose(self, label: str, option: str) -> None:
        Select(self.field(label)).select_by_visible_text(option)

    def tick(self, label: str, option: str) -> None:
        group = self.field(label)
        group.find_element(
            By.XPATH, f".//label[normalize-space()={xpath_text(option)}]/input"
        ).click()

    def field_error(self, label: str) -> str:
        block = self.field(label).find_element(
            By.XPATH, "./ancestor::div[contains(@class,'input')]"
        )
        errors = block.find_elements(By.CSS_SELECTOR, ".field-error")
        return errors[0].text if errors else ""

    def wait_field_error(self, label: str, text: str) -> None:
        self.until(lambda: self.field_error(label) == text, f"{text!r} under {label}")

    def submit_modal(self) -> None:
        self.modal().find_element(By.CSS_SELECTOR, "footer button.primary").click()

    def close_modal(self, label: str = "Cancel") -> None:
        self.modal().find_element(
            By.XPATH, f".//footer/button[normalize-space()={xpath_text(label)}]"
        ).click()
        self.wait_modal_closed()

    # ---------------------------------------------------------------- the demo's meeting

    def meeting_buttons(self) -> list[str]:
        return self.buttons("#main .meeting")

    def fill_guest_name(self, name: str) -> None:
        field = self.browser.find_element(By.CSS_SELECTOR, "#main input[aria-label='Guest name']")
        field.clear()
        field.send_keys(name)

    def join_as_guest_with_enter(self, name: str) -> None:
        self.fill_guest_name(name)
        self.browser.find_element(
            By.CSS_SELECTOR, "#main input[aria-label='Guest name']"
        ).send_keys(Keys.ENTER)
