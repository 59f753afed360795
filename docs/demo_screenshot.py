"""Remake docs/demo.png: `make demo`'s page in headless Chromium, a call with three people in it.

PYTHONPATH=. .venv/bin/python docs/demo_screenshot.py
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.demo.slack_page import SlackPage

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        demo = subprocess.Popen(
            [sys.executable, "-m", "local_slack", "--port", "0", "--database", "demo.db"],
            cwd=scratch,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert demo.stdout is not None
        page_url = next(m.group(1) for line in demo.stdout if (m := re.search(r"open (\S+)", line)))
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--window-size=1100,700"):
            options.add_argument(argument)
        browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            page = SlackPage(browser, page_url).open(person="U0ADA00001", at="C0GENERAL")
            page.say("/call start Standup @ben @chloe")
            page.wait_for_card(lambda: page.card_title() == "Standup", "the card")
            for name in ("Ben Carter", "Chloé Martin"):
                page.be(name)
                page.press("Join", in_message_with="Standup")
                page.wait_for_card(lambda n=name: n in page.card_people(), f"{name} in the call")
            page.be("Ada Okafor")
            page.wait_to_see("Started Standup")
            time.sleep(5)  # a running time worth showing
            browser.save_screenshot(str(ROOT / "docs" / "demo.png"))
        finally:
            browser.quit()
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=20)


if __name__ == "__main__":
    main()
