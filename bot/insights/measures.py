"""The measures a helpline reports, added up in the database (GROUP BY) from the per-conversation
summaries (bot.insights.summary keeps them current), the cases, and the counts kept when old
conversations and cases were deleted (usage_count): never by reading the tracker store's events.

By week, council (and so region), channel and audience, filtered as the statistics page filters:
conversations, questions and call-back referrals (as before), and for the conversations still
held (`measured`: purged ones keep only their counts) how many were contained, escalated (asked
for a person or a call back), left a call-back form unfinished, the messages and how many were
not understood, and "was that helpful?" answers. Then time to claim and to call back per
priority, the workers' outcomes, and the topics most often not understood. Nothing here names a
person; bot.insights.disclosure decides what of it may be shown.
"""
from __future__ import annotations

import functools
import statistics
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Mapping

from sqlalchemy import JSON, Integer, and_, cast, func, literal, select, true, union_all
from sqlalchemy.orm import Session

from bot.geo import gazetteer
from bot.insights.labels import NOT_GIVEN, region_of
from bot.insights.models import ConversationSummary as S
from bot.insights.models import ConversationTopic as T
from bot.referrals import priority as priorities
from bot.referrals.counts import monday
from bot.referrals.models import KIND_CALLBACK, PRIORITIES, Case, UsageCount
from bot.settings import Settings


@dataclass(frozen=True)
class Filters:
    week_from: str = ""  # ISO date of a Monday: weeks are named by their Monday
    week_to: str = ""
    region: str = ""
    council: str = ""
    topic: str = ""
    audience: str = ""
    channel: str = ""

    def query(self) -> dict[str, str]:
        """The filters chosen, by the names the statistics page's form uses."""
        names = {"week_from": "from", "week_to": "to"}
        return {names.get(k, k): v for k, v in self.__dict__.items() if v}


@dataclass
class Counts:
    """Sums over a set of conversations. `conversations`, `questions` and `referrals` include the
    counts kept from deleted data; the rest cover the `measured` conversations (still held)."""

    conversations: int = 0
    measured: int = 0
    questions: int = 0
    referrals: int = 0
    messages: int = 0  # messages people sent
    fallbacks: int = 0  # of them, not understood
    contained: int = 0
    escalated: int = 0
    abandoned: int = 0
    helpful: int = 0
    not_helpful: int = 0

    def add(self, other: "Counts") -> None:
        mine, theirs = self.__dict__, other.__dict__
        for name in COUNT_NAMES:
            mine[name] += theirs[name]


COUNT_NAMES = tuple(f.name for f in fields(Counts))


@dataclass(frozen=True)
class Timing:
    """Time from a case being made to a response, for one priority, in minutes."""

    priority: str
    cases: int  # cases with a time
    median: float | None
    p90: float | None
    target: int | None = None  # minutes (time to claim only)
    judged: int = 0  # answered, or unanswered past the target
    within: int = 0  # answered within the target


@dataclass
class Measures:
    filters: Filters
    total: Counts
    by_week: dict[str, Counts]
    by_region: dict[str, Counts]
    by_council: dict[str, Counts]
    by_channel: dict[str, Counts]
    by_audience: dict[str, Counts]
    by_topic: dict[str, Counts]  # conversations asking, questions, referrals
    not_understood: dict[str, int]  # topic ("" before any) -> messages not understood
    to_claim: list[Timing]
    to_call_back: list[Timing]
    outcomes: dict[tuple[str, str], int]  # (case kind, outcome code) -> cases
    options: dict[str, list[str]] = field(default_factory=dict)  # what the filters can choose


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (0.9: the value 90% of them are at or under)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil
    return ordered[int(rank) - 1]


SUMMED = ("n", "questions", "messages", "fallbacks", "contained", "escalated", "abandoned", "helpful", "not_helpful")


def _sums(questions) -> tuple:
    """What is added up per group of summaries, labelled as SUMMED."""
    return tuple(column.label(name) for column, name in zip((
        func.count(), func.sum(questions), func.sum(S.messages), func.sum(S.fallbacks),
        func.sum(cast(S.contained, Integer)), func.sum(cast(S.asked_for_person, Integer)),
        func.sum(cast(S.form_abandoned, Integer)), func.sum(S.helpful), func.sum(S.not_helpful),
    ), SUMMED))


def _counts(row: Iterable) -> Counts:
    n, questions, messages, fallbacks, contained, escalated, abandoned, helpful, not_helpful = (int(v or 0) for v in row)
    return Counts(n, n, questions, 0, messages, fallbacks, contained, escalated, abandoned, helpful, not_helpful)


@functools.lru_cache(maxsize=None)
def _region_councils(region: str | None) -> tuple[str, ...]:
    """Every council code (past and present) in a region or nation; None: in any."""
    return tuple(sorted(code for code in gazetteer().councils if region_of(code) == region
                        or (region is None and region_of(code) != NOT_GIVEN)))


def _area(filters: Filters) -> Callable | None:
    """The condition the council or region filter puts on a council code column (None: any).
    "Not given" is no council, or a code the gazetteer does not know."""
    if filters.council:
        return lambda column: column == filters.council
    if filters.region == NOT_GIVEN:
        return lambda column: column.notin_(_region_councils(None))
    if filters.region:
        return lambda column: column.in_(_region_councils(filters.region))
    return None


def _summary_query(columns: tuple, filters: Filters, area: Callable | None):
    """SELECT `columns` FROM the summaries the filters choose (joined to the chosen topic's rows)."""
    query = select(*columns).select_from(S)
    if filters.topic:
        query = query.join(T, and_(T.sender_id == S.sender_id, T.topic == filters.topic))
    query = _weeks_area_audience(query.where(S.messages > 0), S, filters, area)
    return query.where(S.channel == filters.channel) if filters.channel else query


def _weeks_area_audience(query, table, filters: Filters, area: Callable | None):
    """`query` narrowed to the chosen weeks, area and audience of `table` (the summaries, or the
    counts kept from purged data: both have week, council_code and audience)."""
    if filters.week_from:
        query = query.where(table.week >= filters.week_from)
    if filters.week_to:
        query = query.where(table.week <= filters.week_to)
    if area is not None:
        query = query.where(area(table.council_code))
    return query.where(table.audience == filters.audience) if filters.audience else query


def _not_understood_pairs(session: Session):
    """(topic, count) rows of every summary's not_understood_topics JSON, unpacked in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        pairs = func.json_each_text(cast(S.not_understood_topics, JSON)).table_valued("key", "value")
        return pairs, cast(pairs.c.value, Integer)
    pairs = func.json_each(S.not_understood_topics).table_valued("key", "value")
    return pairs, pairs.c.value


def _summaries(session: Session, filters: Filters, area: Callable | None, measures: Measures) -> None:
    """Everything from the conversation summaries, in three queries: one pass over them grouped
    by week, council, channel and audience at once (a covering index holds those and the
    counts), added up in the database by each of the four; the topics; the topics not understood."""
    dimensions = (S.week, S.council_code, S.channel, S.audience)
    questions = T.questions if filters.topic else S.questions
    cells = _summary_query((*dimensions, *_sums(questions)), filters, area).group_by(*dimensions).cte("cells")
    by = {"week": measures.by_week, "council_code": measures.by_council, "channel": measures.by_channel,
          "audience": measures.by_audience}
    query = union_all(*(
        select(literal(name).label("dimension"), cells.c[name].label("key"), *(func.sum(cells.c[s]) for s in SUMMED))
        .group_by(cells.c[name]) for name in by
    ))
    for dimension, key, *sums in session.execute(query):
        counts = _counts(sums)
        by[dimension].setdefault(key or "", Counts()).add(counts)
        if dimension == "week":
            measures.total.add(counts)
    narrowed = any((filters.week_from, filters.week_to, area is not None, filters.audience, filters.channel))
    topic_query = select(T.topic, func.count(), func.sum(T.questions))
    if narrowed:  # the conversations chosen (found by the covering index), then their topics
        topic_query = topic_query.where(T.sender_id.in_(_summary_query((S.sender_id,), filters, area)))
    if filters.topic:
        topic_query = topic_query.where(T.topic == filters.topic)
    for topic, conversations, asked in session.execute(topic_query.group_by(T.topic)):
        measures.by_topic.setdefault(topic, Counts()).add(Counts(conversations=conversations, questions=int(asked or 0)))
    pairs, value = _not_understood_pairs(session)
    missed = _summary_query((pairs.c.key, func.sum(value)), filters, area).join(pairs, true())
    for topic, n in session.execute(missed.where(S.fallbacks > 0).group_by(pairs.c.key)):
        if n:
            measures.not_understood[topic or ""] = measures.not_understood.get(topic or "", 0) + int(n)


def _kept(session: Session, filters: Filters, area: Callable | None, measures: Measures) -> None:
    """Counts kept from purged conversations and deleted cases (usage_count): no channel is kept,
    so a channel filter leaves them out."""
    if filters.channel:
        return
    query = select(UsageCount.week, UsageCount.council_code, UsageCount.topic, UsageCount.audience,
                   UsageCount.conversations, UsageCount.questions, UsageCount.referrals)
    query = _weeks_area_audience(query, UsageCount, filters, area)
    if filters.topic:
        query = query.where(UsageCount.topic == filters.topic)
    for week, council, topic, audience, conversations, questions, referrals in session.execute(query):
        # A row with topic "" counts each conversation once; a topic's row, the ones that asked it.
        kept = Counts(conversations=conversations if (filters.topic or not topic) else 0, questions=questions, referrals=referrals)
        for key, into in ((week, measures.by_week), (council, measures.by_council), ("", measures.by_channel),
                          (audience, measures.by_audience)):
            into.setdefault(key or "", Counts()).add(kept)
        measures.total.add(kept)
        if topic:
            measures.by_topic.setdefault(topic, Counts()).add(Counts(conversations=conversations, questions=questions, referrals=referrals))


def _case_query(filters: Filters, area: Callable | None):
    query = select(Case.kind, Case.created_at, Case.council_code, Case.channel, Case.audience, Case.topic, Case.priority,
                   Case.status, Case.first_response_at, Case.called_back_at, Case.closed_at, Case.outcome_code)
    if filters.week_from:
        query = query.where(Case.created_at >= datetime.fromisoformat(filters.week_from))
    if filters.week_to:
        query = query.where(Case.created_at < datetime.fromisoformat(filters.week_to) + timedelta(days=7))
    if area is not None:
        query = query.where(area(func.coalesce(Case.council_code, "")))
    for column, value in ((Case.audience, filters.audience), (Case.channel, filters.channel), (Case.topic, filters.topic)):
        if value:
            query = query.where(column == value)
    return query


@dataclass
class _Times:
    claim: dict[str, list[float]] = field(default_factory=dict)
    call_back: dict[str, list[float]] = field(default_factory=dict)
    judged: dict[str, int] = field(default_factory=dict)
    within: dict[str, int] = field(default_factory=dict)


def _minutes(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds() / 60)


def _time_case(times: _Times, case, targets: Mapping[str, int], now: datetime) -> None:
    """A case's time to first response (priorities.response_time), held against its priority's
    target once answered or once its wait passed the target; and its time to call back."""
    level = case.priority if case.priority in PRIORITIES else PRIORITIES[-1]
    answered = priorities.response_time(case)
    target = timedelta(minutes=targets[level])
    if answered is not None:
        times.claim.setdefault(level, []).append(_minutes(answered))
        times.judged[level] = times.judged.get(level, 0) + 1
        times.within[level] = times.within.get(level, 0) + (answered <= target)
    else:
        waited = priorities.waiting(case, now) or ((case.closed_at - case.created_at) if case.closed_at else None)
        if waited is not None and waited > target:
            times.judged[level] = times.judged.get(level, 0) + 1
    if case.kind == KIND_CALLBACK and case.called_back_at is not None:
        times.call_back.setdefault(level, []).append(_minutes(case.called_back_at - case.created_at))


def _cases(session: Session, filters: Filters, area: Callable | None, measures: Measures,
           targets: Mapping[str, int], now: datetime) -> None:
    times = _Times()
    for case in session.execute(_case_query(filters, area)):
        if case.kind == KIND_CALLBACK:
            for key, into in ((monday(case.created_at.date()), measures.by_week), (case.council_code, measures.by_council),
                              (case.channel, measures.by_channel), (case.audience, measures.by_audience),
                              (case.topic, measures.by_topic if case.topic else {})):
                into.setdefault(key or "", Counts()).referrals += 1
            measures.total.referrals += 1
        if case.outcome_code:
            measures.outcomes[(case.kind, case.outcome_code)] = measures.outcomes.get((case.kind, case.outcome_code), 0) + 1
        _time_case(times, case, targets, now)
    for level in PRIORITIES:
        claim, back = times.claim.get(level, []), times.call_back.get(level, [])
        measures.to_claim.append(Timing(level, len(claim), statistics.median(claim) if claim else None, percentile(claim, 0.9),
                                        targets[level], times.judged.get(level, 0), times.within.get(level, 0)))
        measures.to_call_back.append(Timing(level, len(back), statistics.median(back) if back else None, percentile(back, 0.9)))


def options(*, session: Session) -> dict[str, list[str]]:
    """What each filter can choose: the councils, topics, audiences and channels counted."""
    def distinct(*columns) -> set[str]:
        found: set[str] = set()
        for column in columns:
            found |= {v for v in session.execute(select(column).distinct()).scalars() if v}
        return found

    councils = distinct(S.council_code, UsageCount.council_code, Case.council_code)
    return {
        "council": sorted(councils),
        "region": sorted({region_of(code) for code in councils} | {NOT_GIVEN}),
        "topic": sorted(distinct(T.topic, UsageCount.topic, Case.topic)),
        "audience": sorted(distinct(S.audience, UsageCount.audience, Case.audience)),
        "channel": sorted(distinct(S.channel, Case.channel)),
    }


def targets(settings: Settings) -> dict[str, int]:
    """Minutes to a first response per priority (TARGET_MINUTES_*)."""
    return {level: priorities.target_minutes(level, settings) for level in PRIORITIES}


def weeks_between(first: str, last: str) -> list[str]:
    """Every week (its Monday) from `first` to `last`, at most ten years of them."""
    day, end, weeks = date.fromisoformat(first), date.fromisoformat(last), []
    while day <= end and len(weeks) < 520:
        weeks.append(day.isoformat())
        day += timedelta(days=7)
    return weeks


def measure(filters: Filters, *, session: Session, targets: Mapping[str, int], now: datetime | None = None,
            choices: Mapping[str, list[str]] | None = None) -> Measures:
    """Every measure for the conversations and cases the filters choose (`choices`: the filters'
    options, from `options`, when the caller has them already)."""
    choices = options(session=session) if choices is None else choices
    result = Measures(filters, Counts(), {}, {}, {}, {}, {}, {}, {}, [], [], {}, options=dict(choices))
    area = _area(filters)
    _summaries(session, filters, area, result)
    _kept(session, filters, area, result)
    _cases(session, filters, area, result, targets, now or datetime.utcnow())
    for code, counts in result.by_council.items():
        result.by_region.setdefault(region_of(code), Counts()).add(counts)
    if result.by_week:
        for week in weeks_between(min(result.by_week), max(result.by_week)):
            result.by_week.setdefault(week, Counts())
    return result
