"""bot/actions_support.py: every custom action catches its own unexpected errors, logs only its
name and the exception's type, and answers utter_action_failed instead of letting rasa-sdk
send the whole tracker back into Rasa's log."""
from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil

import pytest
from rasa_sdk import Action
from rasa_sdk.utils import all_subclasses

import actions
from bot.actions_support import FAILED_RESPONSE, guarded, is_guarded, send

PERSONAL = "Bronwen Tregarthen 07912 345678 wc:abc123"


def run(action, dispatcher, tracker):
    return asyncio.run(action.run(dispatcher, tracker, {}))


def test_every_action_in_the_actions_package_is_guarded():
    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")
    ours = [cls for cls in all_subclasses(Action) if cls.__module__.startswith("actions.")]
    assert len(ours) >= 14  # all of them were found
    assert [cls.__name__ for cls in ours if not is_guarded(cls)] == []


@guarded
class Exploding(Action):
    def name(self) -> str:
        return "action_exploding"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(response="utter_half_an_answer")
        raise ValueError(f"could not store {PERSONAL}")


@guarded
class Working(Action):
    def name(self) -> str:
        return "action_working"

    def run(self, dispatcher, tracker, domain):  # a plain function, as rasa-sdk allows
        dispatcher.utter_message(response="utter_fine")
        return [{"event": "slot", "name": "x", "value": 1}]


def test_an_unexpected_error_becomes_an_apology_and_a_log_line_without_the_person(dispatcher, make_tracker, caplog):
    caplog.set_level(logging.DEBUG)
    events = run(Exploding(), dispatcher, make_tracker(text=PERSONAL))
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == [FAILED_RESPONSE]  # the half answer is gone
    assert [r.getMessage() for r in caplog.records if r.name.startswith("bot.")] == ["action action_exploding failed: ValueError"]
    assert not any(r.exc_info for r in caplog.records)  # no traceback quoting the error


def test_a_working_action_is_untouched(dispatcher, make_tracker):
    assert run(Working(), dispatcher, make_tracker()) == [{"event": "slot", "name": "x", "value": 1}]
    assert [m["response"] for m in dispatcher.messages] == ["utter_fine"]
    assert guarded(Working) is Working and is_guarded(Working)


def test_cancellation_is_not_swallowed(dispatcher, make_tracker):
    @guarded
    class Cancelled(Action):
        def name(self) -> str:
            return "action_cancelled"

        async def run(self, dispatcher, tracker, domain):
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        run(Cancelled(), dispatcher, make_tracker())


def test_a_real_action_failing_answers_with_the_apology(dispatcher, make_tracker, monkeypatch, caplog):
    from actions.directory import ActionSearchServices
    from bot.directory import search

    def broken(*args, **kwargs):
        raise RuntimeError(PERSONAL)

    monkeypatch.setattr(search, "search_services", broken)
    tracker = make_tracker(intent="ask_find_service", slots={"need": "kinship_care", "area": "Stockton"}, text=PERSONAL)
    assert run(ActionSearchServices(), dispatcher, tracker) == []
    assert [m["response"] for m in dispatcher.messages] == [FAILED_RESPONSE]
    assert "Bronwen" not in caplog.text and "07912" not in caplog.text


def test_send_utters_each_message_with_its_values(dispatcher):
    send(dispatcher, [dict(response="utter_directory_local", area="Leeds"), dict(response="utter_directory_end")])
    assert [(m["response"], m.get("area")) for m in dispatcher.messages] == [("utter_directory_local", "Leeds"), ("utter_directory_end", None)]
