"""The statistics page: the measures (bot.insights.measures) as they may be shown
(bot.insights.disclosure), labelled and sorted for people, charts drawn as SVG
(bot.console.stats_charts), and the same figures as CSV.

Counts from 1 to 4 read "<5" and cells held back so that a small one cannot be worked out read
"—" ("withheld" in the CSV). Tables are sorted by what is shown: hidden cells sort last, by
name, so the order gives no hidden number away. Nothing here names a person.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from bot.console.stats_charts import Chart, RateChart, rate_chart, weekly_chart
from bot.insights.disclosure import OTHER_TOPICS, Cell, Protected, Rate, Row, TimingRow, protect
from bot.insights.labels import NO_TOPIC, NOT_GIVEN, channel_label, council_name, region_of, topic_label
from bot.insights.measures import Filters, Measures
from bot.referrals.counts import monday
from bot.referrals.models import OUTCOME_LABELS

__all__ = ["Filters", "Report", "build", "council_name", "filters_from_args", "region_of", "to_csv", "topic_label"]

OUTCOMES = OUTCOME_LABELS  # the same words as on the case page


def filters_from_args(args) -> Filters:
    """The filters from the page's query string (bad dates are ignored; a date means its week)."""
    def get(name: str, limit: int = 80) -> str:
        return (args.get(name) or "").strip()[:limit]

    return Filters(_week_or_blank(get("from", 10)), _week_or_blank(get("to", 10)), get("region"), get("council", 10),
                   get("topic", 60), get("audience", 20), get("channel", 40))


def _week_or_blank(text: str) -> str:
    try:
        return monday(date.fromisoformat(text))
    except ValueError:
        return ""


@dataclass
class Report:
    filters: Filters
    total: Row
    by_week: list[Row]
    by_region: list[Row]
    by_council: list[tuple[str, str, Row]]  # code, name, row
    by_channel: list[Row]
    by_audience: list[Row]
    by_topic: list[Row]
    not_understood: list[tuple[str, Cell]]  # label, messages
    to_claim: list[TimingRow]
    to_call_back: list[TimingRow]
    outcomes: list[tuple[str, Cell, Cell]]  # outcome, live chats, call backs
    chart: Chart
    rates_chart: RateChart
    problems_chart: RateChart
    regions: list[str]
    councils: list[tuple[str, str]]
    topics: list[str]
    audiences: list[str]
    channels: list[tuple[str, str]]


def _order(rows: dict[str, Row], by: str, label=lambda key: key) -> list[Row]:
    """Largest shown first; rows whose cell is hidden after them, by name (an order that says
    nothing about a hidden number)."""
    return sorted(rows.values(), key=lambda r: (not r.cells[by].shown, -r.cells[by].value if r.cells[by].shown else 0, label(r.key)))


def _not_understood_label(topic: str) -> str:
    if topic == OTHER_TOPICS:
        return "all other topics"
    return topic_label(topic) if topic else NO_TOPIC


def _outcomes(protected: Protected) -> list[tuple[str, Cell, Cell]]:
    codes = sorted({code for _, code in protected.outcomes}, key=lambda c: list(OUTCOMES).index(c) if c in OUTCOMES else 99)
    return [(OUTCOMES.get(code, code.replace("_", " ")), protected.outcomes.get(("live", code), Cell(0)),
             protected.outcomes.get(("callback", code), Cell(0))) for code in codes]


def build(measures: Measures) -> Report:
    """Everything the statistics page shows, from the measures the filters chose."""
    p = protect(measures)
    by_week = [p.by_week[week] for week in sorted(p.by_week)]
    options = measures.options
    return Report(
        filters=measures.filters,
        total=p.total,
        by_week=by_week,
        by_region=_order(p.by_region, "conversations"),
        by_council=[(r.key, council_name(r.key), r) for r in _order(p.by_council, "conversations", council_name)],
        by_channel=_order(p.by_channel, "conversations", channel_label),
        by_audience=_order(p.by_audience, "conversations", lambda a: a or NOT_GIVEN),
        by_topic=_order(p.by_topic, "questions", topic_label),
        not_understood=[(_not_understood_label(topic), c) for topic, c in p.not_understood],
        to_claim=p.to_claim,
        to_call_back=p.to_call_back,
        outcomes=_outcomes(p),
        chart=weekly_chart(by_week),
        rates_chart=rate_chart(by_week, ("containment", "escalation")),
        problems_chart=rate_chart(by_week, ("fallback", "abandonment")),
        regions=options.get("region", []),
        councils=sorted(((code, council_name(code)) for code in options.get("council", [])), key=lambda c: c[1]),
        topics=options.get("topic", []),
        audiences=options.get("audience", []),
        channels=[(c, channel_label(c)) for c in options.get("channel", [])],
    )


COUNT_COLUMNS = ("conversations", "questions", "referrals", "messages", "not_understood", "contained", "escalated",
                 "form_abandoned", "helpful", "not_helpful")
RATE_COLUMNS = ("containment_pct", "escalation_pct", "fallback_pct", "abandonment_pct", "helpful_pct")
TIME_COLUMNS = ("cases", "median_minutes", "p90_minutes", "target_minutes", "within_target_pct")
CSV_COLUMNS = ("section", "key", "label", *COUNT_COLUMNS, *RATE_COLUMNS, *TIME_COLUMNS)
_CELL_OF = {"not_understood": "fallbacks", "form_abandoned": "abandoned"}


def _count_line(section: str, key: str, label: str, r: Row) -> dict[str, str]:
    line = {"section": section, "key": key, "label": label}
    line.update({column: r.cells[_CELL_OF.get(column, column)].csv() for column in COUNT_COLUMNS})
    line.update({column: r.rates[column.removesuffix("_pct")].csv() for column in RATE_COLUMNS})
    return line


def _minutes(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _time_lines(section: str, rows: list[TimingRow]) -> list[dict[str, str]]:
    return [{"section": section, "key": t.priority, "label": t.priority, "cases": t.cases.csv(),
             "median_minutes": _minutes(t.median) if t.cases.shown else t.cases.csv(),
             "p90_minutes": _minutes(t.p90) if t.cases.shown else t.cases.csv(),
             "target_minutes": "" if t.target is None else str(t.target),
             "within_target_pct": t.within.csv() if t.within else ""} for t in rows]


def csv_lines(report: Report) -> list[dict[str, str]]:
    """The page's figures as rows: one per table row, its section saying which table."""
    lines = [_count_line("total", "", "all", report.total)]
    lines += [_count_line("week", r.key, f"week of {r.key}", r) for r in report.by_week]
    lines += [_count_line("region", r.key, r.key, r) for r in report.by_region]
    lines += [_count_line("council", code, name, r) for code, name, r in report.by_council]
    lines += [_count_line("channel", r.key, channel_label(r.key), r) for r in report.by_channel]
    lines += [_count_line("audience", r.key, r.key or NOT_GIVEN, r) for r in report.by_audience]
    lines += [_count_line("topic", r.key, topic_label(r.key), r) for r in report.by_topic]
    lines += [{"section": "not_understood", "key": "", "label": label, "not_understood": c.csv()} for label, c in report.not_understood]
    lines += _time_lines("time_to_claim", report.to_claim) + _time_lines("time_to_call_back", report.to_call_back)
    for label, live, callback in report.outcomes:
        lines += [{"section": f"outcome_{kind}", "key": "", "label": label, "cases": c.csv()} for kind, c in (("live", live), ("callback", callback))]
    return lines


def to_csv(report: Report) -> str:
    """The figures the page shows, protected the same way, as CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    for line in csv_lines(report):
        writer.writerow({k: _cell(v) for k, v in line.items()})
    return out.getvalue()


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rate_text(rate: Rate | None) -> str:
    return rate.text() if rate else ""


def minutes_text(value: float | None) -> str:
    """Minutes as people read them: "12 min", "3 h 5 min", "24 h", "2 days 4 h"."""
    if value is None:
        return ""
    minutes = int(round(value))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    hours = minutes % (24 * 60) // 60
    return f"{minutes // (24 * 60)} days" + (f" {hours} h" if hours else "")
