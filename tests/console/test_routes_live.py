"""What came of a case (bot/console/routes_live.py close): ending a live chat needs an outcome
from the list, asked for before the chat is handed back and with nothing the worker wrote
lost; closing a call back takes one if given; the case page shows it in plain words."""
from __future__ import annotations

from bot.referrals.models import OUTCOME_CODES, Case
from tests.support.console import audit_rows, log_in, post


def _case(session_for, case_id: int) -> Case:
    with session_for() as s:
        return s.get(Case, case_id)


def test_ending_a_live_chat_asks_for_an_outcome_first_and_keeps_what_was_written(console, fake_rasa, make_user, make_live, session_for):
    make_user("sam")
    case_id = make_live("live-outcome")
    client = log_in(console)
    post(client, console, f"/cases/{case_id}/claim")
    posts_before = len(fake_rasa.posts)
    page = client.get(console.url + f"/cases/{case_id}").text
    assert '<select id="close-outcome-code" name="outcome_code" required>' in page
    assert '<option value="passed_to_prison">passed to the prison</option>' in page
    assert '<option value="signposted">signposted to a service</option>' in page

    asked = post(client, console, f"/cases/{case_id}/close", {"outcome": "Gave the visits line", "force": "yes"})
    assert asked.status_code == 400 and "Choose what came of this chat before ending it." in asked.text
    assert ">Gave the visits line</textarea>" in asked.text  # nothing lost
    wrong = post(client, console, f"/cases/{case_id}/close", {"outcome": "Gave the visits line", "outcome_code": "made_up"})
    assert wrong.status_code == 400 and "not one of the choices" in wrong.text
    assert _case(session_for, case_id).status == "claimed" and len(fake_rasa.posts) == posts_before  # not handed back
    assert not [a for a, _, c, _ in audit_rows(session_for) if c == case_id and a == "close"]

    ended = post(client, console, f"/cases/{case_id}/close", {"outcome": "Gave the visits line", "outcome_code": "signposted"})
    assert "handed back to the assistant" in ended.text
    assert "<strong>signposted to a service</strong>: Gave the visits line" in ended.text
    case = _case(session_for, case_id)
    assert (case.status, case.outcome_code, case.outcome) == ("closed", "signposted", "Gave the visits line")
    assert fake_rasa.posts[-1][2] == {"name": "utter_handoff_ended"}


def test_when_the_chat_cannot_be_handed_back_the_outcome_chosen_is_kept_on_the_page(console, fake_rasa, make_user, make_live, session_for):
    make_user("sam")
    case_id = make_live("live-down")
    client = log_in(console)
    post(client, console, f"/cases/{case_id}/claim")
    fake_rasa.fail = True
    kept = post(client, console, f"/cases/{case_id}/close", {"outcome": "Said goodbye", "outcome_code": "helped"})
    assert kept.status_code == 502 and '<option value="helped" selected>helped</option>' in kept.text
    assert ">Said goodbye</textarea>" in kept.text and _case(session_for, case_id).outcome_code is None
    forced = post(client, console, f"/cases/{case_id}/close", {"outcome_code": "no_reply", "force": "yes"})
    assert forced.status_code == 200 and _case(session_for, case_id).outcome_code == "no_reply"


def test_a_call_back_closes_with_or_without_an_outcome_but_never_a_made_up_one(console, make_user, make_callback, session_for):
    make_user("sam")
    plain, coded, bad = make_callback(), make_callback(), make_callback()
    client = log_in(console)
    page = client.get(console.url + f"/cases/{plain}").text
    assert '<select id="close-outcome-code" name="outcome_code">' in page and "What came of it (optional)" in page

    assert post(client, console, f"/cases/{plain}/close", {"outcome": "Done"}).status_code == 200
    assert (_case(session_for, plain).status, _case(session_for, plain).outcome_code) == ("closed", None)
    shown = post(client, console, f"/cases/{coded}/close", {"outcome_code": "call_back_arranged"})
    assert "<strong>call back arranged</strong></dd>" in shown.text
    assert _case(session_for, coded).outcome_code == "call_back_arranged"
    refused = post(client, console, f"/cases/{bad}/close", {"outcome": "Kept", "outcome_code": "<b>x</b>"})
    assert refused.status_code == 400 and ">Kept</textarea>" in refused.text and "<b>x</b>" not in refused.text
    assert _case(session_for, bad).status == "new"
    assert set(OUTCOME_CODES) == {"helped", "signposted", "call_back_arranged", "passed_to_prison", "no_reply", "other"}
