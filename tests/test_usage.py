"""Anonymous usage counts, over conversations saved by Rasa's own SQLTrackerStore."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot import usage
from bot.referrals import cases
from tests.support.conversations import engine, save_conversation


def test_usage_counts_conversations_questions_and_referrals_anonymously(tracker_url, session_for):
    monday = datetime(2026, 11, 23, 10).timestamp()
    save_conversation(tracker_url, "a", [
        ("user", "hi", "greet"),
        ("slot", "audience", "family"),
        ("slot", "area", "Stockton-on-Tees"),
        ("user", "how do i book a visit", "ask_visit_booking"),
        ("user", "and the cost", "ask_visit_costs"),
        ("user", "booking again?", "ask_visit_booking"),
    ], started=monday)
    save_conversation(tracker_url, "b", [("user", "what can the school do", "ask_school"), ("slot", "audience", "professional")],
                      started=monday + 86400 * 8)
    with session_for() as s, s.begin():
        cases.create_callback(cases.CallbackRequest(
            sender_id="a", channel="webchat", request_key="a:1", consent_version="v1", consent_at=datetime.utcnow(),
            phone="+447700900123", safe_to_call=True, safe_to_leave_message=True, topic="ask_visit_costs",
            audience="family", council_code="STT"), session=s)
    with session_for() as s:
        rows = usage.usage(tracker_engine=engine(tracker_url), session=s)
    found = {(r.week, r.council_code, r.topic, r.audience): (r.conversations, r.questions, r.referrals) for r in rows}
    assert found[("2026-11-23", "STT", "", "family")] == (1, 0, 0)
    assert found[("2026-11-23", "STT", "ask_visit_booking", "family")] == (1, 2, 0)
    assert found[("2026-11-23", "STT", "ask_visit_costs", "family")] == (1, 1, 0)
    assert found[("2026-11-30", "", "ask_school", "professional")] == (1, 1, 0)
    referral_week = (datetime.utcnow().date() - timedelta(days=datetime.utcnow().weekday())).isoformat()
    assert found[(referral_week, "STT", "ask_visit_costs", "family")][2] == 1
    assert not any("greet" in key for key in found)
