"""The statistics page's figures as people read them: filters from the query string, tables
sorted without giving a hidden number away, charts that hide what the tables hide, and the
CSV with the same protection as the page."""
from __future__ import annotations

import csv
import io

from bot.console import stats
from bot.console.stats_charts import HIDDEN_MARK
from bot.insights.measures import Counts, Filters, Measures, Timing


def conversations(n: int, **counts: int) -> Counts:
    values = dict(conversations=n, measured=n, messages=3 * n)
    values.update(counts)
    return Counts(**values)


def measures(by_week: dict[str, Counts], by_council: dict[str, Counts] | None = None, **more) -> Measures:
    total = Counts()
    for counts in by_week.values():
        total.add(counts)
    by_council = by_council or {"STT": total}
    by_region = {"North East": total}
    values = dict(by_channel={"webchat": total}, by_audience={"family": total}, by_topic={}, not_understood={},
                  to_claim=[], to_call_back=[], outcomes={})
    values.update(more)
    return Measures(Filters(), total, by_week, by_region, by_council, options={"channel": ["twilio", "webchat"]}, **values)


def test_filters_come_from_the_query_string_and_a_date_means_its_week():
    f = stats.filters_from_args({"from": "2026-11-26", "to": "not a date", "channel": " twilio ", "region": "North East"})
    assert f == Filters(week_from="2026-11-23", week_to="", region="North East", channel="twilio")
    assert f.query() == {"from": "2026-11-23", "region": "North East", "channel": "twilio"}


def test_rows_are_sorted_by_what_is_shown_and_hidden_ones_last_by_name():
    by_council = {"STT": conversations(30), "HPL": conversations(3), "MDB": conversations(2), "RCC": conversations(12)}
    report = stats.build(measures({"2026-11-23": conversations(47)}, by_council=by_council))
    # Hartlepool (3) and Middlesbrough (2) are both "<5": in name order, not by their numbers; and
    # with two hidden, Redcar's 12 stays shown.
    assert [name for _, name, _ in report.by_council] == ["Stockton-on-Tees", "Redcar and Cleveland", "Hartlepool", "Middlesbrough"]


def test_charts_hide_what_the_tables_hide():
    weeks = {"2026-11-02": conversations(40, contained=20, escalated=10), "2026-11-09": conversations(3),
             "2026-11-16": conversations(30, contained=15, escalated=10), "2026-11-23": conversations(12, contained=6, escalated=6)}
    report = stats.build(measures(weeks))
    bars = {b.label: b for b in report.chart.bars}
    assert bars["2026-11-09"].conversations == "<5" and bars["2026-11-09"].conversations_h == HIDDEN_MARK
    assert bars["2026-11-23"].conversations == "—" and bars["2026-11-23"].conversations_hidden  # held back beside it
    assert bars["2026-11-02"].conversations == "40" and bars["2026-11-02"].conversations_h > HIDDEN_MARK
    containment = next(s for s in report.rates_chart.series if s.name == "containment")
    assert [p.title for p in containment.points] == ["week of 2026-11-02: 50% contained", "week of 2026-11-16: 50% contained"]
    assert containment.segments == []  # two weeks apart: no line is drawn across the gap


def test_csv_has_the_page_figures_with_small_counts_as_fewer_than_five():
    weeks = {"2026-11-02": conversations(40, contained=20, escalated=10, questions=50, referrals=6, fallbacks=10),
             "2026-11-09": conversations(3, contained=1, questions=4, referrals=1),
             "2026-11-16": conversations(30, contained=15, escalated=10, questions=40, referrals=7, fallbacks=5)}
    timing = [Timing("urgent", 3, 5.0, 9.0, 15, 3, 3), Timing("high", 10, 50.0, 70.0, 60, 10, 5), Timing("normal", 0, None, None, 1440)]
    report = stats.build(measures(weeks, by_topic={"ask_visiting": Counts(conversations=30, questions=94, referrals=14)},
                                  not_understood={"ask_visiting": 7, "ask_school": 6, "": 2}, to_claim=timing,
                                  outcomes={("live", "helped"): 6, ("live", "no_reply"): 2}))
    rows = list(csv.DictReader(io.StringIO(stats.to_csv(report))))
    assert list(rows[0]) == list(stats.CSV_COLUMNS)
    by = {(r["section"], r["key"]): r for r in rows}
    total = by[("total", "")]
    assert (total["conversations"], total["questions"], total["referrals"], total["contained"]) == ("73", "94", "14", "36")
    assert total["containment_pct"] == "49"
    small = by[("week", "2026-11-09")]
    assert (small["conversations"], small["questions"], small["referrals"], small["containment_pct"]) == ("<5", "<5", "<5", "withheld")
    # The smallest other week of each column is held back, so the small one cannot be worked out.
    held, other = by[("week", "2026-11-16")], by[("week", "2026-11-02")]
    assert (held["conversations"], held["containment_pct"], held["referrals"]) == ("withheld", "withheld", "7")
    assert (other["conversations"], other["referrals"]) == ("40", "withheld")
    missed = [r for r in rows if r["section"] == "not_understood"]
    assert [(r["label"], r["not_understood"]) for r in missed] == [("visiting", "7"), ("school", "withheld"), ("no topic yet", "<5")]
    claim = {r["key"]: r for r in rows if r["section"] == "time_to_claim"}
    assert (claim["urgent"]["cases"], claim["urgent"]["median_minutes"]) == ("<5", "<5")
    assert (claim["high"]["median_minutes"], claim["high"]["p90_minutes"], claim["high"]["within_target_pct"]) == ("50", "70", "50")
    assert [r["cases"] for r in rows if r["section"] == "outcome_live"] == ["6", "<5"]
    for r in rows:
        for column in stats.COUNT_COLUMNS:
            assert r[column] not in ("1", "2", "3", "4"), (r["section"], r["key"], column)


def test_csv_cells_never_start_a_formula():
    report = stats.build(measures({"2026-11-23": conversations(6)}, by_audience={"=cmd|' /C calc'!A0": conversations(6)}))
    assert "'=cmd" in stats.to_csv(report)


def test_minutes_read_as_people_say_them():
    assert [stats.minutes_text(v) for v in (None, 4.4, 75, 60, 1440, 60 * 50 + 30, 2880)] == [
        "", "4 min", "1 h 15 min", "1 h", "24 h", "2 days 2 h", "2 days"]
