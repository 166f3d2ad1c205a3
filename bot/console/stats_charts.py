"""The statistics page's charts, as coordinates for inline SVG (drawn by templates/stats.html):
bars of conversations and referrals per week, and lines of rates per week. A hidden count is
drawn as an empty marker at the foot of its bar and a withheld rate as a gap in its line, so a
chart never shows what its table hides."""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.insights.disclosure import Cell, Row

RATE_NAMES = {"containment": "contained", "escalation": "asked for a person", "fallback": "messages not understood",
              "abandonment": "forms left unfinished", "helpful": "found it helpful"}


@dataclass
class Bar:
    label: str
    x: float
    conversations: str  # as the table shows it: "12", "<5", "—"
    referrals: str
    conversations_y: float
    conversations_h: float
    referrals_y: float
    referrals_h: float
    conversations_hidden: bool = False
    referrals_hidden: bool = False


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


def _shown(c: Cell) -> int:
    return c.value if c.shown else 0


GROUP = 34  # pixels a week takes across
HIDDEN_MARK = 3.0  # height of the marker drawn for a hidden count, whatever the scale


def weekly_chart(by_week: list[Row], height: int = 220) -> Chart:
    """Bars of conversations and referrals per week."""
    top, bottom, left, group = 10, 40, 40, GROUP
    plot = height - top - bottom
    values = [_shown(r.cells[name]) for r in by_week for name in ("conversations", "referrals")]
    max_value = max(values + [1])
    result = Chart(width=left + max(1, len(by_week)) * group + 10, height=height, top=top, bottom=height - bottom,
                   max_value=max_value, bar_width=group / 2 - 2)
    for i, r in enumerate(by_week):
        conversations, referrals = r.cells["conversations"], r.cells["referrals"]
        ch = HIDDEN_MARK if not conversations.shown else plot * conversations.value / max_value
        rh = HIDDEN_MARK if not referrals.shown else plot * referrals.value / max_value
        result.bars.append(Bar(r.key, left + i * group, conversations.text(), referrals.text(),
                               top + plot - ch, ch, top + plot - rh, rh, not conversations.shown, not referrals.shown))
    for step in range(5):
        value = round(max_value * step / 4)
        result.ticks.append((top + plot - plot * value / max_value, value))
    return result


@dataclass
class Point:
    x: float
    y: float
    title: str


@dataclass
class Series:
    name: str
    label: str
    segments: list[str] = field(default_factory=list)  # SVG polyline "x,y x,y" runs, broken where withheld
    points: list[Point] = field(default_factory=list)


@dataclass
class RateChart:
    width: int
    height: int
    top: int
    bottom: int
    labels: list[tuple[float, str]] = field(default_factory=list)  # x, week label
    ticks: list[tuple[float, int]] = field(default_factory=list)  # y, percent
    series: list[Series] = field(default_factory=list)


def rate_chart(by_week: list[Row], names: tuple[str, ...], height: int = 200) -> RateChart:
    """Lines of the named rates (disclosure.RATES) per week, from 0 to 100%."""
    top, bottom, left, group = 10, 30, 40, GROUP
    plot = height - top - bottom
    chart = RateChart(width=left + max(1, len(by_week)) * group + 10, height=height, top=top, bottom=height - bottom)
    chart.ticks = [(top + plot - plot * pct / 100, pct) for pct in (0, 25, 50, 75, 100)]
    chart.labels = [(left + i * group + group / 2, r.key[5:]) for i, r in enumerate(by_week)]
    for name in names:
        series, run = Series(name, RATE_NAMES[name]), []
        for i, r in enumerate(by_week):
            rate = r.rates[name]
            if rate.percent is None:
                if len(run) > 1:
                    series.segments.append(" ".join(run))
                run = []
                continue
            x, y = left + i * group + group / 2, top + plot - plot * rate.percent / 100
            run.append(f"{x:.1f},{y:.1f}")
            series.points.append(Point(x, y, f"week of {r.key}: {rate.percent}% {RATE_NAMES[name]}"))
        if len(run) > 1:
            series.segments.append(" ".join(run))
        chart.series.append(series)
    return chart
