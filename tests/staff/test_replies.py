"""Saved replies (bot.staff.replies) against real SQLite and PostgreSQL: validation, tags,
changes audited by id and fields (never the words), retiring, and finding one by a few words."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import handoff
from bot.staff import replies
from bot.staff.models import AuditEntry, SavedReply, StaffUser


@pytest.fixture
def admin(session_for) -> int:
    with session_for() as s, s.begin():
        user = StaffUser(username="ada", display_name="Ada", password_hash="x", role="admin")
        s.add(user)
        s.flush()
        return user.id


def add(session_for, admin: int, title: str, text: str, tags: str = "") -> int:
    with session_for() as s, s.begin():
        return replies.create(title, text, tags, user_id=admin, session=s).id


def audit(session_for) -> list[tuple[str, int | None, str]]:
    with session_for() as s:
        return [(e.action, e.staff_user_id, e.detail) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_a_reply_is_stored_tidied_with_its_tags_lower_cased_and_audited_without_its_words(session_for, admin):
    reply_id = add(session_for, admin, "  Visiting   times ", "Hello, I'm {worker}.\r\nVisits are booked online. ",
                   " Visits, Booking ,, visits , Prison  Rules")
    with session_for() as s:
        reply = s.get(SavedReply, reply_id)
        assert (reply.title, reply.text, reply.tags) == ("Visiting times", "Hello, I'm {worker}.\nVisits are booked online.",
                                                         "visits,booking,prison rules")
        assert reply.active and reply.updated_by_id == admin
    assert audit(session_for) == [("reply_added", admin, f"saved reply {reply_id}")]


@pytest.mark.parametrize("title, text, tags, field, words", [
    ("", "Some text", "", "title", "Give the reply a title"),
    ("x" * 121, "Some text", "", "title", "at most 120 characters (it has 121)"),
    ("Title", "   ", "", "text", "Write the reply's text"),
    ("Title", "y" * 1001, "", "text", "at most 1000 characters (it has 1001)"),
    ("Title", "Dear {name}, from {worker}", "", "text", "take out {name}"),
    ("Title", "Text", ",".join(f"t{n}" for n in range(11)), "tags", "at most 10 tags (there are 11)"),
    ("Title", "Text", "a" * 41, "tags", "Each tag can be at most 40 characters"),
])
def test_a_reply_that_is_not_valid_says_what_to_put_right_and_stores_nothing(session_for, admin, title, text, tags, field, words):
    with session_for() as s, s.begin(), pytest.raises(replies.ReplyError) as caught:
        replies.create(title, text, tags, user_id=admin, session=s)
    assert list(caught.value.problems) == [field] and words in caught.value.problems[field]
    assert words in str(caught.value)
    with session_for() as s:
        assert s.execute(select(SavedReply)).first() is None
    assert audit(session_for) == []


def test_every_problem_is_reported_at_once(admin):
    with pytest.raises(replies.ReplyError) as caught:
        replies.clean("", "", "a" * 50)
    assert set(caught.value.problems) == {"title", "text", "tags"}


def test_limits_fit_a_live_reply_and_the_edges_are_allowed(session_for, admin):
    # A saved reply, with a worker's name in and a few words added, still fits in a live reply.
    assert replies.MAX_TEXT_CHARS * 1.5 <= handoff.MAX_REPLY_CHARS
    reply_id = add(session_for, admin, "t" * 120, "x" * 1000, ",".join(f"t{n}" for n in range(10)))
    with session_for() as s:
        assert len(s.get(SavedReply, reply_id).text) == 1000


def test_a_change_is_audited_with_the_fields_that_changed_and_a_retired_reply_is_kept_but_not_found(session_for, admin):
    reply_id = add(session_for, admin, "Visits", "Visits are booked online.", "visits")
    with session_for() as s, s.begin():
        replies.update(reply_id, "Booking a visit", "Visits are booked online or by phone.", "visits", user_id=admin, session=s)
    with session_for() as s, s.begin():
        replies.update(reply_id, "Booking a visit", "Visits are booked online or by phone.", " Visits ", user_id=admin, session=s)
    with session_for() as s, s.begin():
        replies.retire(reply_id, user_id=admin, session=s)
        replies.retire(reply_id, user_id=admin, session=s)  # twice: nothing more happens
    with session_for() as s:
        reply = s.get(SavedReply, reply_id)
        assert (reply.title, reply.active) == ("Booking a visit", False)
        assert replies.find("booking", session=s) == [] and replies.list_replies(session=s) == []
        assert [r.id for r in replies.list_replies(session=s, retired=True)] == [reply_id]
    assert audit(session_for) == [
        ("reply_added", admin, f"saved reply {reply_id}"),
        ("reply_changed", admin, f"saved reply {reply_id}; changed: title, text"),
        ("reply_changed", admin, f"saved reply {reply_id}; nothing changed"),
        ("reply_retired", admin, f"saved reply {reply_id}"),
    ]
    with session_for() as s, s.begin(), pytest.raises(replies.ReplyError, match="retired"):
        replies.update(reply_id, "Again", "Again", "", user_id=admin, session=s)
    with session_for() as s, s.begin(), pytest.raises(replies.ReplyError, match="no saved reply 999"):
        replies.retire(999, user_id=admin, session=s)


def test_find_matches_every_word_in_any_order_and_case_tags_weigh_most(session_for, admin):
    in_tags = add(session_for, admin, "Travel help", "Help with the cost of travel.", "visits, money")
    in_title = add(session_for, admin, "Visits: what to bring", "Bring photo ID.", "")
    in_text = add(session_for, admin, "Dress code", "For visits, wear something plain.", "")
    retired = add(session_for, admin, "Visits (old)", "Old visiting rules.", "visits")
    add(session_for, admin, "Money worries", "Ask about the Assisted Prison Visits Scheme.", "money")
    with session_for() as s, s.begin():
        replies.retire(retired, user_id=admin, session=s)
    with session_for() as s:
        def ids(query: str, **kw) -> list[int]:
            return [r.id for r in replies.find(query, session=s, **kw)]

        assert ids("VISITS")[:3] == [in_tags, in_title, in_text]  # tag, then title, then text; never the retired one
        assert retired not in ids("visits old")
        assert ids("money travel") == ids("Travel MONEY") == [in_tags]  # every word, any order
        assert ids("vis brin") == [in_title]  # part of a word is enough
        assert ids("visits bananas") == [] and ids("") == [] and ids("   ") == []
        assert len(ids("visits", limit=2)) == 2


def test_find_is_not_confused_by_letters_beyond_ascii(session_for, admin):
    reply_id = add(session_for, admin, "ÉCOLE and café", "Schools near the prison.", "Éducation")
    with session_for() as s:
        assert [r.id for r in replies.find("école éducation", session=s)] == [reply_id]


def test_worker_placeholder_is_filled_and_nothing_else_is_touched():
    assert replies.fill("Hi, I'm {worker}. {worker} here.", "Sam Smith") == "Hi, I'm Sam Smith. Sam Smith here."
    assert replies.fill("No placeholder {here", "Sam") == "No placeholder {here"
    assert replies.split_tags(" A,b ,, a , C  d") == ["a", "b", "c d"]
