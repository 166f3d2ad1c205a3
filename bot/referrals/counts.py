"""Anonymous counts kept when cases or conversations are deleted (table usage_count), so the
statistics page still counts them: per week, council, topic and audience, never a person."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.referrals.models import KIND_CALLBACK, Case, UsageCount

# (week, council code, topic, audience) -> [conversations, questions, referrals]
Totals = dict[tuple[str, str, str, str], list[int]]


def monday(day: date) -> str:
    """The week `day` is in, as the ISO date of its Monday."""
    return (day - timedelta(days=day.weekday())).isoformat()


def add(totals: Totals, key: tuple, conversations: int = 0, questions: int = 0, referrals: int = 0) -> None:
    """Add to the counts kept under `key` (week, council, topic, audience)."""
    row = totals.setdefault(key, [0, 0, 0])
    row[0] += conversations
    row[1] += questions
    row[2] += referrals


def store_counts(totals: Totals, *, session: Session) -> None:
    """Add `totals` to the kept counts in usage_count (the caller commits)."""
    for (week, council, topic, audience), (conversations, questions, referrals) in totals.items():
        row = session.execute(
            select(UsageCount).where(
                UsageCount.week == week, UsageCount.council_code == council, UsageCount.topic == topic,
                UsageCount.audience == audience,
            )
        ).scalar_one_or_none()
        if row is None:
            row = UsageCount(week=week, council_code=council, topic=topic, audience=audience, conversations=0, questions=0, referrals=0)
            session.add(row)
        row.conversations += conversations
        row.questions += questions
        row.referrals += referrals
    session.flush()


def count_case_for_statistics(case: Case, *, session: Session) -> None:
    """Keep an anonymous count of a case that is about to be deleted (callbacks are referrals)."""
    if case.kind == KIND_CALLBACK:
        week = monday(case.created_at.date())
        store_counts({(week, case.council_code or "", case.topic or "", case.audience or ""): [0, 0, 1]}, session=session)
