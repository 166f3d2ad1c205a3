"""What of the measures may be shown: small counts as "<5", parts whose rest is small held back,
no sum left with one hidden cell to work out by subtraction, rates only from numbers of 5 or
more, and times only from 5 cases or more."""
from __future__ import annotations

import random

from bot.insights import disclosure
from bot.insights.disclosure import FEW, HELD, SHOWN, protect, row
from bot.insights.labels import region_of
from bot.insights.measures import Counts, Filters, Measures, Timing

COUNTED = ("conversations", "questions", "referrals", "messages", "fallbacks", "contained", "escalated", "abandoned",
           "helpful", "not_helpful")


def conversations(n: int, **counts: int) -> Counts:
    """n conversations, all measured, with 3 messages each unless said."""
    values = dict(conversations=n, measured=n, messages=3 * n)
    values.update(counts)
    return Counts(**values)


def measures(by_week: dict[str, Counts] | None = None, by_council: dict[str, Counts] | None = None,
             by_topic: dict[str, Counts] | None = None, not_understood: dict[str, int] | None = None,
             to_claim: list[Timing] | None = None) -> Measures:
    """Measures as bot.insights.measures adds them up: every breakdown sums to the total."""
    by_week = by_week or {"2026-11-23": conversations(0)}
    by_council = by_council or {"": _sum(by_week.values())}
    total = _sum(by_week.values())
    by_region: dict[str, Counts] = {}
    for code, counts in by_council.items():
        by_region.setdefault(region_of(code), Counts()).add(counts)
    return Measures(Filters(), total, by_week, by_region, by_council, {"webchat": total}, {"family": total}, by_topic or {},
                    not_understood or {}, to_claim or [], [], {})


def _sum(parts) -> Counts:
    total = Counts()
    for part in parts:
        total.add(part)
    return total


def test_counts_from_one_to_four_show_as_fewer_than_five():
    cells = row("w", Counts(conversations=4, questions=5, referrals=0, messages=1)).cells
    assert [cells[n].text() for n in ("conversations", "questions", "referrals", "messages")] == ["<5", "5", "0", "<5"]
    assert [cells[n].csv() for n in ("conversations", "questions", "referrals")] == ["<5", "5", "0"]
    assert cells["conversations"].hidden == FEW and cells["referrals"].hidden == SHOWN


def test_a_part_whose_rest_is_small_is_held_back():
    # 38 of 40 contained says 2 were not: held back, and its rate withheld.
    r = row("w", conversations(40, contained=38, escalated=20, fallbacks=118))
    assert r.cells["contained"].hidden == HELD and r.cells["contained"].text() == "—" and r.cells["contained"].csv() == "withheld"
    assert r.cells["escalated"].shown
    assert r.cells["fallbacks"].hidden == HELD  # 118 of 120 messages not understood: 2 understood
    p = protect(measures({"2026-11-23": conversations(40, contained=38, escalated=20)}))
    assert p.total.rates["containment"].text() == "—" and p.total.rates["escalation"].text() == "50%"


def test_one_small_cell_cannot_be_worked_out_from_the_total():
    weeks = {"2026-11-02": conversations(40, contained=30), "2026-11-09": conversations(3, contained=3),
             "2026-11-16": conversations(25, contained=20), "2026-11-23": conversations(12, contained=9)}
    p = protect(measures(weeks))
    cells = {week: r.cells["conversations"] for week, r in p.by_week.items()}
    assert p.total.cells["conversations"].text() == "80"
    assert cells["2026-11-09"].text() == "<5"
    assert cells["2026-11-23"].hidden == HELD  # the smallest other week, so 80 - 40 - 25 leaves two unknowns
    assert cells["2026-11-02"].shown and cells["2026-11-16"].shown
    assert p.by_week["2026-11-23"].rates["containment"].text() == "—"  # a rate beside a held-back count gives it away


def test_a_council_cannot_be_worked_out_from_its_region():
    by_week = {"2026-11-23": conversations(60, contained=40)}
    by_council = {"STT": conversations(30, contained=20), "HPL": conversations(2, contained=1),
                  "MDB": conversations(8, contained=6), "MAN": conversations(20, contained=13)}
    p = protect(measures(by_week, by_council))
    assert p.by_region["North East"].cells["conversations"].text() == "40"
    assert p.by_council["HPL"].cells["conversations"].text() == "<5"
    assert p.by_council["MDB"].cells["conversations"].hidden == HELD  # the smaller other council of the North East
    assert p.by_council["STT"].cells["conversations"].shown and p.by_council["MAN"].cells["conversations"].shown


def test_holding_back_a_region_protects_its_councils_too():
    # North West is small (held as "<5"): the North East is held back beside it, and then its
    # councils must not add up to it.
    by_week = {"2026-11-23": conversations(60)}
    by_council = {"STT": conversations(30), "HPL": conversations(20), "MDB": conversations(7), "MAN": conversations(3)}
    p = protect(measures(by_week, by_council))
    assert p.by_region["North West"].cells["conversations"].hidden == FEW
    assert p.by_region["North East"].cells["conversations"].hidden == HELD
    north_east = [p.by_council[c].cells["conversations"] for c in ("STT", "HPL", "MDB")]
    assert [c.hidden for c in north_east] == [SHOWN, SHOWN, HELD]  # with the region, two unknowns in that sum


def test_rates_need_five_or_more_behind_them():
    p = protect(measures({"2026-11-23": conversations(10, contained=5, escalated=4, abandoned=0, helpful=6, not_helpful=3)}))
    assert p.total.rates["containment"].text() == "50%"  # 5 of 10, 5 not
    assert protect(measures({"2026-11-23": conversations(9, contained=5)})).total.rates["containment"].text() == "—"  # 4 not
    assert p.total.rates["escalation"].text() == "—"  # 4 of 10
    assert p.total.rates["abandonment"].text() == "0%"  # none of 10 tells nothing
    assert p.total.rates["helpful"].text() == "—"  # 3 said no
    assert p.total.rates["fallback"].text() == "0%"
    small = protect(measures({"2026-11-23": conversations(4, contained=0)}))
    assert small.total.rates["containment"].text() == "—"  # of fewer than 5
    none = protect(measures({"2026-11-23": Counts()}))
    assert none.total.rates["containment"].text() == "" and none.total.rates["containment"].csv() == ""


def test_times_need_five_cases():
    timings = [Timing("urgent", 4, 6.0, 9.0, 15, 4, 4), Timing("high", 20, 45.0, 80.0, 60, 20, 15),
               Timing("normal", 7, 300.0, 900.0, 1440, 7, 6)]
    urgent, high, normal = protect(measures(to_claim=timings)).to_claim
    assert urgent.cases.text() == "<5" and urgent.median is None and urgent.p90 is None and urgent.within.text() == "—"
    assert (high.median, high.p90, high.within.text()) == (45.0, 80.0, "75%")
    assert normal.median == 300.0 and normal.within.text() == "—"  # one late: a share would give it away


def test_topics_not_understood_are_listed_most_first_and_the_rest_together():
    missed = {f"ask_topic_{i:02d}": 20 - i for i in range(12)} | {"": 2}
    total = sum(missed.values())
    p = protect(measures({"2026-11-23": conversations(100, fallbacks=total, messages=400)}, not_understood=missed), longest_topic_list=10)
    assert [t for t, _ in p.not_understood][:3] == ["ask_topic_00", "ask_topic_01", "ask_topic_02"]
    assert p.not_understood[-1][0] == disclosure.OTHER_TOPICS and p.not_understood[-1][1].value == 10 + 9 + 2
    assert len(p.not_understood) == 11


def test_no_small_count_is_shown_and_no_sum_gives_one_away_whatever_the_numbers():
    rng = random.Random(17)
    councils = ["STT", "HPL", "MDB", "MAN", "LIV", "BIR", "", "CRF"]
    for _ in range(300):
        by_council = {}
        for code in rng.sample(councils, rng.randint(1, len(councils))):
            n = rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 15, 40])
            by_council[code] = conversations(n, contained=rng.randint(0, n), escalated=rng.randint(0, n),
                                             questions=rng.randint(0, 2 * n), referrals=rng.randint(0, 3))
        total = _sum(by_council.values())
        weeks = {}
        remaining = total.conversations
        for week in ("2026-11-02", "2026-11-09", "2026-11-16"):
            n = rng.randint(0, remaining)
            weeks[week] = conversations(n, contained=min(n, total.contained), questions=0)
            remaining -= n
        weeks["2026-11-23"] = conversations(remaining)
        p = protect(measures(weeks, by_council))
        every = [p.total, *p.by_week.values(), *p.by_region.values(), *p.by_council.values()]
        for r in every:
            for name in COUNTED:
                c = r.cells[name]
                assert not (c.shown and 0 < c.value < 5), (r.key, name, c)
                assert c.text() not in ("1", "2", "3", "4")
        for total_cell, parts in disclosure._sums(p):
            hidden = [c for c in [total_cell, *parts] if not c.shown]
            # One hidden cell in a sum is only harmless when the sum has nothing else to give (all nought).
            assert len(hidden) != 1 or all(c.value == 0 for c in [total_cell, *parts] if c is not hidden[0]), (total_cell, parts)
