"""The statistics page: anonymous counts from bot.usage, filtered and summed by
week, region, council, topic and audience, a bar chart drawn as SVG, and CSV.

A usage row with topic "" counts each conversation once; a row with a topic counts the
conversations that asked about it (one conversation can ask about several topics). So
"conversations" sums the topic-less rows unless a topic is chosen. Nothing here names a
person: the rows hold no sender, name, phone or text.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.geo import gazetteer
from bot.usage import UsageRow

NOT_GIVEN = "Not given"


@dataclass(frozen=True)
class Filters:
    week_from: str = ""  # ISO dates; a row's week is the date of its Monday
    week_to: str = ""
    region: str = ""
    council: str = ""
    topic: str = ""
    audience: str = ""

    @classmethod
    def from_args(cls, args) -> "Filters":
        def get(name: str, limit: int = 80) -> str:
            return (args.get(name) or "").strip()[:limit]

        week_from, week_to = get("from", 10), get("to", 10)
        return cls(_iso_or_blank(week_from), _iso_or_blank(week_to), get("region"), get("council", 10), get("topic", 60), get("audience", 20))

    def query(self) -> dict[str, str]:
        names = {"week_from": "from", "week_to": "to"}
        return {names.get(k, k): v for k, v in self.__dict__.items() if v}


def _iso_or_blank(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return ""


def council_name(code: str) -> str:
    """A council's name from its code ("Not given" for none)."""
    if not code:
        return NOT_GIVEN
    try:
        return gazetteer().council(code).name
    except KeyError:
        return code


def region_of(code: str) -> str:
    """The English region, or the nation outside England, of a council code."""
    if not code:
        return NOT_GIVEN
    try:
        council = gazetteer().council(code)
    except KeyError:
        return NOT_GIVEN
    return council.region if council.nation == "England" and council.region else council.nation


def topic_label(topic: str) -> str:
    """An intent as a topic people read ("ask_visit_costs" -> "visit costs")."""
    if not topic:
        return NOT_GIVEN
    return topic.removeprefix("ask_").replace("_", " ")


@dataclass
class Totals:
    conversations: int = 0
    questions: int = 0
    referrals: int = 0


@dataclass
class Bar:
    label: str
    x: float
    conversations: int
    referrals: int
    conversations_y: float
    conversations_h: float
    referrals_y: float
    referrals_h: float


@dataclass
class Chart:
    width: int
    height: int
    top: int
    bottom: int
    max_value: int
    bar_width: float
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class Report:
    filters: Filters
    total: Totals
    by_week: list[tuple[str, Totals]]
    by_region: list[tuple[str, Totals]]
    by_council: list[tuple[str, str, Totals]]  # code, name, totals
    by_topic: list[tuple[str, Totals]]
    by_audience: list[tuple[str, Totals]]
    chart: Chart
    regions: list[str]
    topics: list[str]
    audiences: list[str]
    councils: list[tuple[str, str]]


def filter_rows(rows: list[UsageRow], filters: Filters) -> list[UsageRow]:
    kept = []
    for row in rows:
        if filters.week_from and row.week < filters.week_from:
            continue
        if filters.week_to and row.week > filters.week_to:
            continue
        if filters.region and region_of(row.council_code) != filters.region:
            continue
        if filters.council and row.council_code != filters.council:
            continue
        if filters.topic and row.topic != filters.topic:
            continue
        if filters.audience and row.audience != filters.audience:
            continue
        kept.append(row)
    return kept


def _add(totals: Totals, row: UsageRow, topic_chosen: bool) -> None:
    # Without a chosen topic, a conversation is counted once: in its topic-less row.
    if topic_chosen or not row.topic:
        totals.conversations += row.conversations
    totals.questions += row.questions
    totals.referrals += row.referrals


def _weeks_between(first: str, last: str) -> list[str]:
    day, end, weeks = date.fromisoformat(first), date.fromisoformat(last), []
    while day <= end and len(weeks) < 520:
        weeks.append(day.isoformat())
        day += timedelta(days=7)
    return weeks


def build(rows: list[UsageRow], filters: Filters) -> Report:
    """Everything the statistics page shows, from all usage rows and the chosen filters."""
    chosen = filter_rows(rows, filters)
    topic_chosen = bool(filters.topic)
    total = Totals()
    weeks: dict[str, Totals] = {}
    regions: dict[str, Totals] = {}
    councils: dict[str, Totals] = {}
    topics: dict[str, Totals] = {}
    audiences: dict[str, Totals] = {}
    for row in chosen:
        _add(total, row, topic_chosen)
        _add(weeks.setdefault(row.week, Totals()), row, topic_chosen)
        _add(regions.setdefault(region_of(row.council_code), Totals()), row, topic_chosen)
        _add(councils.setdefault(row.council_code, Totals()), row, topic_chosen)
        _add(audiences.setdefault(row.audience or NOT_GIVEN, Totals()), row, topic_chosen)
        if row.topic:
            _add(topics.setdefault(row.topic, Totals()), row, True)
    if weeks:
        for week in _weeks_between(min(weeks), max(weeks)):
            weeks.setdefault(week, Totals())
    by_week = sorted(weeks.items())
    largest = lambda item: (-item[1].conversations, -item[1].referrals, item[0])  # noqa: E731
    return Report(
        filters=filters,
        total=total,
        by_week=by_week,
        by_region=sorted(regions.items(), key=largest),
        by_council=[(code, council_name(code), t) for code, t in sorted(councils.items(), key=largest)],
        by_topic=sorted(topics.items(), key=lambda item: (-item[1].questions, item[0])),
        by_audience=sorted(audiences.items(), key=largest),
        chart=chart(by_week),
        regions=sorted({region_of(r.council_code) for r in rows}),
        topics=sorted({r.topic for r in rows if r.topic}),
        audiences=sorted({r.audience for r in rows if r.audience}),
        councils=sorted({(r.council_code, council_name(r.council_code)) for r in rows if r.council_code}, key=lambda c: c[1]),
    )


def chart(by_week: list[tuple[str, Totals]], height: int = 220) -> Chart:
    """Bars of conversations and referrals per week, as coordinates for an inline SVG."""
    top, bottom, left, group = 10, 40, 40, 28
    plot = height - top - bottom
    max_value = max([t.conversations for _, t in by_week] + [t.referrals for _, t in by_week] + [1])
    result = Chart(width=left + max(1, len(by_week)) * group + 10, height=height, top=top, bottom=height - bottom,
                   max_value=max_value, bar_width=group / 2 - 2)
    for i, (week, t) in enumerate(by_week):
        x = left + i * group
        ch, rh = plot * t.conversations / max_value, plot * t.referrals / max_value
        result.bars.append(Bar(week, x, t.conversations, t.referrals, top + plot - ch, ch, top + plot - rh, rh))
    for step in range(5):
        value = round(max_value * step / 4)
        result.ticks.append((top + plot - plot * value / max_value, value))
    return result


CSV_COLUMNS = ["week", "region", "council_code", "council", "topic", "audience", "conversations", "questions", "referrals"]


def to_csv(rows: list[UsageRow], filters: Filters) -> str:
    """The filtered usage rows as CSV. Rows with an empty topic count each conversation once."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in filter_rows(rows, filters):
        writer.writerow([
            _cell(row.week), _cell(region_of(row.council_code)), _cell(row.council_code),
            _cell(council_name(row.council_code) if row.council_code else ""), _cell(row.topic), _cell(row.audience),
            row.conversations, row.questions, row.referrals,
        ])
    return out.getvalue()


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
