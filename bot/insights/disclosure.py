"""What of the measures may be shown, so that no family can be singled out (on the statistics
page and in its CSV alike; docs/console.md, "How the numbers are protected").

1. A count from 1 to 4 is shown as "<5" (FEW). Nought is shown: it tells nothing about anyone.
2. A count that is part of a whole (contained, escalated, abandoned of the conversations measured;
   not understood of the messages) is held back (HELD) when the rest of the whole is from 1 to 4:
   "38 of 40 were contained" would say that 2 were not.
3. Rows add up to a total shown beside them (weeks, regions, channels, audiences to the total;
   the councils of a region to the region; questions, referrals and messages not understood by
   topic to the total). Where exactly one cell of such a sum is hidden it could be worked out by
   subtraction, so the smallest other non-zero cell of the sum is held back too, until every sum
   has none or at least two hidden cells (a fixed point over every sum at once, since a region's
   cell is both a part of the regions' sum and the total of its councils').
4. A rate is shown only when its count, what it is out of and the rest are all shown and at least
   5 (a rate beside its whole gives its count away). Times to respond need 5 cases or more.

A determined reader comparing many differently filtered views could still narrow a small number
down; the console is for staff, and this is about the figures that leave the helpline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from bot.insights.labels import region_of
from bot.insights.measures import Counts, Measures, Timing

SMALL = 5
SHOWN, FEW, HELD = "", "few", "held"
# The counts shown for a row of conversations (Counts.measured is only the rates' denominator).
CELLS = ("conversations", "questions", "referrals", "messages", "fallbacks", "contained", "escalated", "abandoned",
         "helpful", "not_helpful")
# rate -> (its count, what it is out of)
RATES = {
    "containment": ("contained", "measured"),
    "escalation": ("escalated", "measured"),
    "abandonment": ("abandoned", "measured"),
    "fallback": ("fallbacks", "messages"),
    "helpful": ("helpful", "answers"),
}
OTHER_TOPICS = "*other*"  # the not-understood topics past the longest list shown, together


@dataclass(eq=False)
class Cell:
    value: int
    hidden: str = SHOWN

    @property
    def shown(self) -> bool:
        return not self.hidden

    def text(self) -> str:
        """As the page shows it: "1,234", "<5", or "—" when held back."""
        return f"{self.value:,}" if self.shown else ("<5" if self.hidden == FEW else "—")

    def csv(self) -> str:
        """As the CSV has it: "1234", "<5", or "withheld"."""
        return str(self.value) if self.shown else ("<5" if self.hidden == FEW else "withheld")


@dataclass(frozen=True)
class Rate:
    count: int
    of: int
    shown: bool

    @property
    def percent(self) -> int | None:
        return round(100 * self.count / self.of) if self.shown and self.of else None

    def text(self) -> str:
        """"62%", "—" when withheld, "" when there is nothing to measure."""
        if not self.of:
            return ""
        return f"{self.percent}%" if self.shown else "—"

    def csv(self) -> str:
        return "" if not self.of else (str(self.percent) if self.shown else "withheld")


@dataclass(eq=False)
class Row:
    key: str
    counts: Counts
    cells: dict[str, Cell]
    rates: dict[str, Rate] = field(default_factory=dict)


@dataclass(frozen=True)
class TimingRow:
    priority: str
    cases: Cell
    median: float | None  # minutes; None when withheld or none
    p90: float | None
    target: int | None
    within: Rate | None


@dataclass
class Protected:
    total: Row
    by_week: dict[str, Row]
    by_region: dict[str, Row]
    by_council: dict[str, Row]
    by_channel: dict[str, Row]
    by_audience: dict[str, Row]
    by_topic: dict[str, Row]
    not_understood: list[tuple[str, Cell]]  # most first; OTHER_TOPICS last when the list was cut
    to_claim: list[TimingRow]
    to_call_back: list[TimingRow]
    outcomes: dict[tuple[str, str], Cell]


def few(value: int) -> bool:
    """Whether a count would be shown as "<5"."""
    return 0 < value < SMALL


def cell(value: int) -> Cell:
    return Cell(value, FEW if few(value) else SHOWN)


def _whole(counts: Counts, name: str) -> int:
    return counts.helpful + counts.not_helpful if name == "answers" else getattr(counts, name)


def row(key: str, counts: Counts) -> Row:
    """A row's cells, small counts hidden, and parts whose rest is small held back (rules 1-2)."""
    cells = {name: cell(getattr(counts, name)) for name in CELLS}
    for count, whole in RATES.values():
        if whole != "answers" and few(_whole(counts, whole) - getattr(counts, count)) and cells[count].shown:
            cells[count].hidden = HELD
    return Row(key, counts, cells)


def protect_sums(sums: Iterable[tuple[Cell, list[Cell]]]) -> None:
    """Rule 3: hold back cells until no sum (total, parts) has exactly one hidden cell."""
    sums = list(sums)
    changed = True
    while changed:
        changed = False
        for total, parts in sums:
            if sum(c.hidden != SHOWN for c in [total, *parts]) != 1:
                continue
            candidates = [c for c in parts if c.shown and c.value > 0]
            if candidates:
                min(candidates, key=lambda c: c.value).hidden = HELD
            elif total.shown and total.value > 0:
                total.hidden = HELD
            else:
                continue  # the hidden one is nought or nothing else is: nothing to work out
            changed = True


def _rates(r: Row) -> None:
    """Rule 4, once every cell is settled."""
    for name, (count, whole) in RATES.items():
        of = _whole(r.counts, whole)
        shown = r.cells[count].shown and of >= SMALL and not few(of - getattr(r.counts, count))
        if whole == "measured":
            shown = shown and r.cells["conversations"].shown
        elif whole == "messages":
            shown = shown and r.cells["messages"].shown
        else:
            shown = shown and r.cells["not_helpful"].shown
        r.rates[name] = Rate(getattr(r.counts, count), of, shown)


def _timings(timings: list[Timing]) -> list[TimingRow]:
    rows = []
    for t in timings:
        enough = t.cases >= SMALL
        within = None
        if t.target is not None:
            within = Rate(t.within, t.judged, t.judged >= SMALL and not few(t.within) and not few(t.judged - t.within))
        rows.append(TimingRow(t.priority, cell(t.cases), t.median if enough else None, t.p90 if enough else None, t.target, within))
    return rows


def _not_understood(measures: Measures, longest: int) -> list[tuple[str, Cell]]:
    ranked = sorted(measures.not_understood.items(), key=lambda item: (-item[1], item[0]))
    kept = [(topic, cell(n)) for topic, n in ranked[:longest]]
    if len(ranked) > longest:
        kept.append((OTHER_TOPICS, cell(sum(n for _, n in ranked[longest:]))))
    return kept


def protect(measures: Measures, longest_topic_list: int = 10) -> Protected:
    """The measures as they may be shown (rules 1-4)."""
    def rows(found: dict[str, Counts]) -> dict[str, Row]:
        return {key: row(key, counts) for key, counts in found.items()}

    result = Protected(
        total=row("", measures.total), by_week=rows(measures.by_week), by_region=rows(measures.by_region),
        by_council=rows(measures.by_council), by_channel=rows(measures.by_channel), by_audience=rows(measures.by_audience),
        by_topic=rows(measures.by_topic), not_understood=_not_understood(measures, longest_topic_list),
        to_claim=_timings(measures.to_claim), to_call_back=_timings(measures.to_call_back),
        outcomes={key: cell(n) for key, n in measures.outcomes.items()},
    )
    protect_sums(_sums(result))
    for r in [result.total, *result.by_week.values(), *result.by_region.values(), *result.by_council.values(),
              *result.by_channel.values(), *result.by_audience.values(), *result.by_topic.values()]:
        _rates(r)
    return result


def _sums(result: Protected) -> list[tuple[Cell, list[Cell]]]:
    """Every sum a reader could subtract from: (the total's cell, the parts' cells)."""
    sums = []
    for name in CELLS:
        total = result.total.cells[name]
        for table in (result.by_week, result.by_region, result.by_channel, result.by_audience):
            sums.append((total, [r.cells[name] for r in table.values()]))
        for region, region_row in result.by_region.items():
            councils = [r.cells[name] for code, r in result.by_council.items() if region_of(code) == region]
            sums.append((region_row.cells[name], councils))
    for name in ("questions", "referrals"):
        sums.append((result.total.cells[name], [r.cells[name] for r in result.by_topic.values()]))
    sums.append((result.total.cells["fallbacks"], [c for _, c in result.not_understood]))
    return sums
