"""Cases against real SQLite and PostgreSQL: idempotent creation, the queue, staff changes,
cancelling, erasure and retention."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.channels.models import SmsMenu, SmsOptOut, opt_out, save_menu
from bot.referrals import cases
from bot.referrals.models import Case, CaseNote, ErasureRequest, OutboxMessage, UsageCount
from bot.staff.models import StaffUser


def request(sender="sender-1", key="sender-1:m1", **changes) -> cases.CallbackRequest:
    fields = dict(
        sender_id=sender, channel="webchat", request_key=key, consent_version="v1", consent_at=datetime.utcnow(),
        phone="+447700900123", safe_to_call=True, safe_to_leave_message=False, name="Jo", best_time="evening",
        area="Stockton-on-Tees", council_code="STT", summary="Visits: help with the cost", topic="ask_visit_costs",
        audience="family",
    )
    fields.update(changes)
    return cases.CallbackRequest(**fields)


def staff(session, username="worker") -> int:
    user = StaffUser(username=username, display_name=username.title(), password_hash="x", role="worker")
    session.add(user)
    session.flush()
    return user.id


def count(session, model=Case) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_callback_is_stored_with_a_readable_reference(session_for):
    with session_for() as s, s.begin():
        case, created = cases.create_callback(request(), session=s)
    assert created
    assert case.reference.startswith("FC-") and len(case.reference) == 9
    assert not set(case.reference[3:]) & set("01ILOS5")
    with session_for() as s:
        stored = s.execute(select(Case)).scalar_one()
        assert (stored.kind, stored.status, stored.phone, stored.consent_version) == ("callback", "new", "+447700900123", "v1")


def test_the_same_request_twice_makes_one_case(session_for):
    with session_for() as s, s.begin():
        first, _ = cases.create_callback(request(), session=s)
    with session_for() as s, s.begin():
        again, created = cases.create_callback(request(phone="+447700900999"), session=s)
    assert not created and again.reference == first.reference
    with session_for() as s, s.begin():
        cases.create_callback(request(key="sender-1:m2"), session=s)
    with session_for() as s:
        assert count(s) == 2


def test_concurrent_retries_make_one_case(session_for):
    """Two deliveries of the same message at once (as Twilio retries can arrive)."""
    barrier = threading.Barrier(4)
    made = []

    def deliver():
        barrier.wait()
        for _ in range(5):
            try:
                with session_for() as s, s.begin():
                    made.append(cases.create_callback(request(), session=s)[1])
                return
            except Exception as exc:  # SQLite: "database is locked" under contention; retried as a channel would
                if "locked" not in str(exc):
                    raise

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_for() as s:
        assert count(s) == 1
    assert made.count(True) == 1


def test_a_failed_transaction_leaves_nothing(session_for):
    with pytest.raises(RuntimeError):
        with session_for() as s, s.begin():
            cases.create_callback(request(), session=s)
            raise RuntimeError("the reply could not be sent")
    with session_for() as s:
        assert count(s) == 0


def test_live_case_is_opened_once_while_waiting(session_for):
    with session_for() as s, s.begin():
        first, created = cases.open_live(sender_id="chat-1", channel="webchat", request_key="chat-1:a", session=s)
        second, created_again = cases.open_live(sender_id="chat-1", channel="webchat", request_key="chat-1:b", session=s)
    assert created and not created_again and first.id == second.id
    assert first.phone is None and first.name is None


def test_a_crisis_while_waiting_puts_the_live_case_first_and_marks_it_urgent(session_for):
    with session_for() as s, s.begin():
        callback, _ = cases.create_callback(request(sender="a", key="a:1"), session=s)
        waiting, _ = cases.open_live(sender_id="b", channel="webchat", request_key="b:1", session=s)
        assert cases.mark_urgent("a", session=s) == []  # a call back is not a waiting chat
    with session_for() as s, s.begin():
        marked = cases.mark_urgent("b", session=s)
        assert [c.id for c in marked] == [waiting.id]
        first_marked_at = marked[0].urgent_at
    with session_for() as s, s.begin():
        cases.mark_urgent("b", session=s)  # a second crisis message keeps the first time
    with session_for() as s:
        assert [c.id for c in cases.queue(session=s)] == [waiting.id, callback.id]
        stored = s.get(Case, waiting.id)
        assert stored.urgent and stored.urgent_at == first_marked_at
        assert not s.get(Case, callback.id).urgent


def test_staff_work_a_case_through_to_closed(session_for):
    with session_for() as s, s.begin():
        worker = staff(s)
        other = staff(s, "other")
        case, _ = cases.create_callback(request(), session=s)
    with session_for() as s, s.begin():
        cases.claim(case.id, worker, session=s)
        with pytest.raises(cases.CaseError, match="already claimed"):
            cases.claim(case.id, other, session=s)
        cases.add_note(case.id, worker, "  left a voicemail  ", session=s)
        with pytest.raises(cases.CaseError, match="empty"):
            cases.add_note(case.id, worker, "   ", session=s)
        cases.mark_called_back(case.id, worker, "talked through visits", session=s)
        cases.close(case.id, worker, session=s)
        with pytest.raises(cases.CaseError, match="already closed"):
            cases.close(case.id, worker, session=s)
    with session_for() as s:
        stored = s.get(Case, case.id)
        assert (stored.status, stored.claimed_by_id, stored.outcome) == ("closed", worker, "talked through visits")
        assert [n.text for n in stored.notes] == ["left a voicemail"]
        assert stored.closed_at is not None


def test_queue_filters(session_for):
    with session_for() as s, s.begin():
        worker = staff(s)
        a, _ = cases.create_callback(request(sender="a", key="a:1"), session=s)
        b, _ = cases.create_callback(request(sender="b", key="b:1"), session=s)
        live, _ = cases.open_live(sender_id="c", channel="webchat", request_key="c:1", session=s)
        cases.claim(b.id, worker, session=s)
        done, _ = cases.create_callback(request(sender="d", key="d:1"), session=s)
        cases.close(done.id, worker, session=s)
    with session_for() as s:
        refs = lambda found: [c.reference for c in found]  # noqa: E731
        assert refs(cases.queue(session=s)) == [a.reference, b.reference, live.reference]
        assert refs(cases.queue(session=s, kind="live")) == [live.reference]
        assert refs(cases.queue(session=s, mine=worker)) == [b.reference]
        assert refs(cases.queue(session=s, unassigned=True)) == [a.reference, live.reference]
        assert refs(cases.queue(session=s, status="closed")) == [done.reference]
        assert cases.counts_by_status(session=s) == {"new": 2, "claimed": 1, "called_back": 0, "closed": 1, "cancelled": 0}
        with pytest.raises(cases.CaseError, match="Unknown status"):
            cases.queue(session=s, status="lost")


def test_cancelling_a_callback_forgets_the_details(session_for):
    with session_for() as s, s.begin():
        case, _ = cases.create_callback(request(), session=s)
    with session_for() as s, s.begin():
        assert cases.cancel_callbacks("sender-1", session=s) == [case.reference]
        assert cases.cancel_callbacks("sender-1", session=s) == []
    with session_for() as s:
        stored = s.get(Case, case.id)
        assert stored.status == "cancelled"
        assert (stored.phone, stored.name, stored.summary, stored.area) == (None, None, None, None)


def test_erasure_deletes_cases_notes_and_queued_messages_but_keeps_anonymous_counts(session_for):
    with session_for() as s, s.begin():
        worker = staff(s)
        case, _ = cases.create_callback(request(), session=s)
        cases.add_note(case.id, worker, "note", session=s)
        cases.queue_outbox("sender-1", "hello", session=s)
        cases.create_callback(request(sender="someone-else", key="x:1"), session=s)
    with session_for() as s, s.begin():
        cases.request_erasure("sender-1", session=s)
    with session_for() as s:
        assert [c.sender_id for c in s.execute(select(Case)).scalars()] == ["someone-else"]
        assert count(s, CaseNote) == 0 and count(s, OutboxMessage) == 0
        assert s.execute(select(ErasureRequest.sender_id)).scalar_one() == "sender-1"
        kept = s.execute(select(UsageCount)).scalar_one()
        assert (kept.council_code, kept.topic, kept.referrals) == ("STT", "ask_visit_costs", 1)


def test_erasure_forgets_the_sms_options_sent_but_keeps_an_opt_out(session_for):
    with session_for() as s, s.begin():
        opt_out("sms:+447700900123", session=s)
        for sender in ("sms:+447700900123", "sms:+447700900456", "sms:+447700900789"):
            save_menu(sender, ["/ask_visit_costs"], session=s)
    with session_for() as s, s.begin():
        cases.erase_person("sms:+447700900123", session=s)
        cases.erase_person("sms:+447700900456", session=s)
    with session_for() as s:
        assert list(s.execute(select(SmsMenu.sender_id)).scalars()) == ["sms:+447700900789"]
        # The opt-out is what stops us texting them: it is kept.
        assert list(s.execute(select(SmsOptOut.sender_id)).scalars()) == ["sms:+447700900123"]


def test_closed_cases_are_purged_after_the_retention_period(session_for):
    with session_for() as s, s.begin():
        worker = staff(s)
        old, _ = cases.create_callback(request(sender="old", key="old:1"), session=s)
        recent, _ = cases.create_callback(request(sender="new", key="new:1"), session=s)
        still_open, _ = cases.create_callback(request(sender="open", key="open:1"), session=s)
        cases.close(old.id, worker, session=s)
        cases.close(recent.id, worker, session=s)
        s.get(Case, old.id).closed_at = datetime.utcnow() - timedelta(days=91)
    with session_for() as s, s.begin():
        assert cases.purge_closed(90, session=s) == 1
    with session_for() as s:
        assert sorted(c.sender_id for c in s.execute(select(Case)).scalars()) == ["new", "open"]
        assert s.execute(select(func.sum(UsageCount.referrals))).scalar_one() == 1


def test_outbox_messages_are_delivered_once_in_order(session_for):
    with session_for() as s, s.begin():
        cases.queue_outbox("chat-1", "first", session=s)
        cases.queue_outbox("chat-1", "second", session=s)
        cases.queue_outbox("chat-2", "not yours", session=s)
    with session_for() as s, s.begin():
        assert cases.take_outbox("chat-1", session=s) == ["first", "second"]
    with session_for() as s, s.begin():
        assert cases.take_outbox("chat-1", session=s) == []


def test_two_workers_claiming_one_case_at_once_exactly_one_wins(session_for):
    """Eight workers press "claim" on the same new case at the same moment (a barrier releases
    them together): the database lets one through and refuses the rest, on SQLite and PostgreSQL."""
    with session_for() as s, s.begin():
        workers = [staff(s, f"worker{i}") for i in range(8)]
        case, _ = cases.open_live(sender_id="tg:42", channel="telegram", request_key="tg:42:1", session=s)
    barrier = threading.Barrier(len(workers))
    won, refused, errors = [], [], []

    def claim(worker: int) -> None:
        try:
            with session_for() as s, s.begin():
                barrier.wait()
                claimed = cases.claim(case.id, worker, session=s)
                assert claimed.newly_claimed
                won.append(worker)
        except cases.CaseError as exc:
            refused.append((worker, str(exc)))
        except Exception as exc:  # anything else (a lock error) is a failure of the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=claim, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(won) == 1 and len(refused) == len(workers) - 1
    assert all("already claimed by someone else" in message for _, message in refused)
    with session_for() as s:
        stored = s.get(Case, case.id)
        assert (stored.status, stored.claimed_by_id) == ("claimed", won[0])
    # The winner claiming again changes nothing; a closed case cannot be claimed.
    with session_for() as s, s.begin():
        again = cases.claim(case.id, won[0], session=s)
        assert again.status == "claimed" and not again.newly_claimed
        cases.close(case.id, won[0], session=s, outcome_code="helped")
    with session_for() as s, s.begin(), pytest.raises(cases.CaseError, match="closed"):
        cases.claim(case.id, workers[0] if workers[0] != won[0] else workers[1], session=s)


def test_closing_keeps_the_outcome_code_which_a_live_chat_needs_and_none_may_make_up(session_for):
    with session_for() as s, s.begin():
        worker = staff(s)
        callback, _ = cases.create_callback(request(), session=s)
        coded, _ = cases.create_callback(request(sender="sender-2", key="sender-2:m1"), session=s)
        live, _ = cases.open_live(sender_id="chat-9", channel="webchat", request_key="chat-9:a", session=s)
        ids = callback.id, coded.id, live.id
    with session_for() as s, s.begin():
        cases.close(ids[0], worker, session=s)  # a call back: the code is optional
        cases.close(ids[1], worker, "rang back", session=s, outcome_code="passed_to_prison")
    for code, message in ((None, "Choose what came of this chat"), ("", "Choose what came of this chat"),
                          ("made_up", "not one of the choices")):
        with session_for() as s, s.begin(), pytest.raises(cases.CaseError, match=message):
            cases.close(ids[2], worker, "talked", session=s, outcome_code=code)
    with session_for() as s:
        assert s.get(Case, ids[2]).status == "new"  # refused: nothing changed
    with session_for() as s, s.begin():
        cases.close(ids[2], worker, session=s, outcome_code="helped")
    with session_for() as s:
        stored = [(c.status, c.outcome_code, c.outcome) for c in (s.get(Case, i) for i in ids)]
    assert stored == [("closed", None, None), ("closed", "passed_to_prison", "rang back"), ("closed", "helped", None)]


# --- risk first ----------------------------------------------------------------------------

def test_the_queue_puts_the_most_urgent_first_then_the_longest_waiting(session_for):
    now = datetime.utcnow()
    with session_for() as s, s.begin():
        old_normal, _ = cases.create_callback(request(sender="n1", key="n1:1"), session=s)
        high, _ = cases.create_callback(request(sender="h1", key="h1:1", priority="high", priority_reason="express_distress"), session=s)
        new_urgent, _ = cases.open_live(sender_id="u2", channel="webchat", request_key="u2:1", priority="urgent",
                                        priority_reason="risk_self", session=s)
        old_urgent, _ = cases.create_callback(request(sender="u1", key="u1:1", priority="urgent", priority_reason="concern"), session=s)
        new_normal, _ = cases.open_live(sender_id="n2", channel="webchat", request_key="n2:1", session=s)
        for minutes, case in ((60, old_normal), (50, high), (5, new_urgent), (30, old_urgent), (1, new_normal)):
            case.created_at = now - timedelta(minutes=minutes)
    with session_for() as s:
        assert [c.id for c in cases.queue(session=s)] == [old_urgent.id, new_urgent.id, high.id, old_normal.id, new_normal.id]
        stored = s.get(Case, new_urgent.id)
        assert (stored.priority, stored.priority_rank, stored.priority_reason) == ("urgent", 0, "risk_self")
        assert [c.id for c in cases.queue(session=s, kind="callback")] == [old_urgent.id, high.id, old_normal.id]


def test_a_crisis_while_waiting_raises_the_priority_and_never_lowers_it(session_for):
    with session_for() as s, s.begin():
        waiting, _ = cases.open_live(sender_id="w", channel="webchat", request_key="w:1", priority="high",
                                     priority_reason="express_distress", session=s)
        already, _ = cases.open_live(sender_id="x", channel="webchat", request_key="x:1", priority="urgent",
                                     priority_reason="risk_child", session=s)
    with session_for() as s, s.begin():
        cases.mark_urgent("w", session=s)
        cases.mark_urgent("x", session=s)
    with session_for() as s:
        raised, kept = s.get(Case, waiting.id), s.get(Case, already.id)
        assert (raised.priority, raised.priority_rank, raised.priority_reason, raised.urgent) == ("urgent", 0, "crisis_while_waiting", True)
        assert raised.urgent_at is not None
        assert (kept.priority, kept.priority_reason, kept.urgent) == ("urgent", "risk_child", True)  # its first reason stays


def test_asking_again_while_waiting_can_raise_the_waiting_chat(session_for):
    with session_for() as s, s.begin():
        first, _ = cases.open_live(sender_id="again", channel="webchat", request_key="again:1", session=s)
    with session_for() as s, s.begin():
        same, created = cases.open_live(sender_id="again", channel="webchat", request_key="again:2", priority="urgent",
                                        priority_reason="risk_self", session=s)
        assert not created and same.id == first.id
    with session_for() as s, s.begin():
        cases.open_live(sender_id="again", channel="webchat", request_key="again:3", session=s)  # normal now: not lowered
    with session_for() as s:
        assert (s.get(Case, first.id).priority, s.get(Case, first.id).priority_reason) == ("urgent", "risk_self")


def test_the_first_response_is_the_claim_or_the_call_back_and_is_kept(session_for):
    with session_for() as s, s.begin():
        worker = staff(s)
        claimed, _ = cases.create_callback(request(sender="a", key="a:1"), session=s)
        called, _ = cases.create_callback(request(sender="b", key="b:1"), session=s)
        assert claimed.first_response_at is None and called.called_back_at is None
    with session_for() as s, s.begin():
        cases.claim(claimed.id, worker, session=s)
    with session_for() as s:
        first = s.get(Case, claimed.id).first_response_at
        assert first is not None and first == s.get(Case, claimed.id).claimed_at
    with session_for() as s, s.begin():
        cases.mark_called_back(claimed.id, worker, "rang them", session=s)  # later: the first response stays
        cases.mark_called_back(called.id, worker, "rang them", session=s)  # called back without a claim first
    with session_for() as s:
        a, b = s.get(Case, claimed.id), s.get(Case, called.id)
        assert a.first_response_at == first and a.called_back_at >= first
        assert b.called_back_at is not None and b.first_response_at == b.called_back_at
        called_back_at = b.called_back_at
    with session_for() as s, s.begin():
        cases.mark_called_back(called.id, worker, "rang again", session=s)
    with session_for() as s:
        assert s.get(Case, called.id).called_back_at == called_back_at  # the first call is kept
