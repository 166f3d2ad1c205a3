"""Conversation review in a real headless browser (Debian's chromium, driven by Playwright): a
conversation the assistant did not understand, stored through Rasa's own tracker store, is
listed, opened, tagged "wrong answer" and its message relabelled; `bot review export` then
writes YAML that `rasa data validate --fail-on-warnings` accepts with the project's data."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.settings import ROOT
from tests.support.console import PASSWORD
from tests.support.conversations import save_conversation

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)]

WORDS = "can i send him trainers in the post"


def test_a_fallback_conversation_is_reviewed_relabelled_and_exported(browser, console, make_user, tracker_url, database_url,
                                                                    tmp_path, monkeypatch, capsys):
    make_user("sam", role="worker", name="Sam Smith")
    turns = [
        ("user", "hi", "greet"), ("action", "utter_greet"), ("action", "action_listen"),
        ("user", WORDS, "nlu_fallback", 0.27), ("action", "utter_default"),
        ("bot", "Sorry, I didn't quite understand.", {"utter_action": "utter_default"}), ("action", "action_listen"),
    ]
    # Saved from another thread: Playwright's loop runs in this one, and Rasa's store is async.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(save_conversation, tracker_url, "sms:+447700900123", turns, time.time() - 1800, "twilio").result()

    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    missing: list[str] = []
    page.on("response", lambda reply: missing.append(reply.url) if reply.status >= 400 and "favicon" not in reply.url else None)
    page.goto(console.url + "/login")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(console.url + "/")

    # Listed, with why, and opened from the list.
    page.get_by_role("link", name="Review", exact=True).click()
    page.wait_for_url(console.url + "/review")
    row = page.locator("table.review-list tbody tr")
    assert row.count() == 1 and "not understood" in row.inner_text() and "SMS" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/review/[0-9a-f]{16}$"))
    message = page.locator("li.line.user", has_text=WORDS)
    assert "Read as nlu_fallback (27% sure)" in message.inner_text() and "not understood" in message.inner_text()

    # Tagged "wrong answer".
    page.get_by_label("Tag this conversation").select_option("wrong_answer")
    page.get_by_role("button", name="Add tag").click()
    assert page.get_by_role("status").inner_text() == "Tag added."
    assert "wrong answer" in page.locator(".review-tags").inner_text()

    # The message relabelled with the intent it should have had.
    message = page.locator("li.line.user", has_text=WORDS)
    message.get_by_label("Should have been").select_option("ask_send_property")
    message.get_by_role("button", name="Save label").click()
    assert page.get_by_role("status").inner_text().startswith("Label saved")
    assert "labelled: ask_send_property" in page.locator("li.line.user", has_text=WORDS).inner_text()
    assert missing == [] and not [e for e in errors if "Content Security Policy" in e]

    # `bot review export` writes it as NLU training data...
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    out = tmp_path / "reviewed.yml"
    assert main(["--database-url", database_url, "review", "export", "--out", str(out)]) == 0
    assert "1 example written" in capsys.readouterr().err
    assert yaml.safe_load(out.read_text())["nlu"] == [{"intent": "ask_send_property", "examples": f"- {WORDS}\n"}]

    # ... that `rasa data validate --fail-on-warnings` accepts beside the project's data.
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    shutil.copy(out, data / "nlu" / "reviewed.yml")
    rasa = Path(sys.executable).with_name("rasa")
    checked = subprocess.run(
        [str(rasa), "data", "validate", "--fail-on-warnings", "--data", str(data), "--domain", str(ROOT / "domain.yml"),
         "--config", str(ROOT / "config.yml")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
