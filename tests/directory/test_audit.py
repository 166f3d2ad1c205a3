"""`bot directory audit` and `bot directory verify`: entries by state and age, and recorded checks."""
from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from bot import db
from bot.cli import main
from bot.staff.models import AuditEntry
from bot.directory import audit
from bot.directory.models import Service
from bot.directory.seed import load_seed

STATE_ORDER = ["unchecked", "verified", "replaced", "closed"]


def seeded(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    assert main(["--database-url", url, "directory", "load-seed"]) == 0
    return url


def test_rows_come_by_state_then_oldest_first(tmp_path):
    url = seeded(tmp_path)
    with db.session_factory(url)() as s:
        rows = audit.audit_rows(s, today=date(2026, 12, 3))
        total = len(s.execute(select(Service.id)).all())
    assert len(rows) == total
    states = [r.state for r in rows]
    assert states == sorted(states, key=STATE_ORDER.index)
    for state in STATE_ORDER:
        ages = [r.as_of or date.min for r in rows if r.state == state]
        assert ages == sorted(ages), state
    helpline = next(r for r in rows if r.id == "prisoners-families-helpline-support")
    assert (helpline.last_checked, helpline.age_days, helpline.contact) == (date(2026, 12, 3), 0, "0808 808 3444")
    durham_probation = next(r for r in rows if r.id == "darlington-probation")
    assert durham_probation.state == "closed" and "parliament.uk" in durham_probation.checked_source
    unchecked = next(r for r in rows if r.id == "nepacs-frankland-visitors-centre")
    assert unchecked.last_checked is None and unchecked.as_of == date(2011, 5, 1) and unchecked.age_days == (date(2026, 12, 3) - date(2011, 5, 1)).days


def test_the_table_and_the_csv(tmp_path, capsys):
    url = seeded(tmp_path)
    capsys.readouterr()
    assert main(["--database-url", url, "directory", "audit"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["state", "id", "last_checked", "as_of", "age_days", "contact", "successor"]
    assert table[2].startswith("unchecked ")
    assert any(line.startswith("replaced ") and line.rstrip().endswith("family-lives-support") for line in table)
    assert table[-1].endswith("in all") and " verified, " in table[-1]

    path = tmp_path / "audit.csv"
    assert main(["--database-url", url, "directory", "audit", "--csv", str(path)]) == 0
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == list(audit.COLUMNS)
    assert len(rows) == len(table) - 3  # header, rule and totals
    by_id = {r["id"]: r for r in rows}
    assert by_id["parentline-plus-helpline"]["successor"] == "family-lives-support"
    assert by_id["help-with-prison-visits"]["checked_source"] == "https://www.gov.uk/help-with-prison-visits"
    assert by_id["nepacs-frankland-visitors-centre"]["last_checked"] == "never"

    capsys.readouterr()
    assert main(["--database-url", url, "directory", "audit", "--format", "csv"]) == 0
    assert list(csv.DictReader(io.StringIO(capsys.readouterr().out))) == rows


def test_verify_records_the_check_its_source_and_an_audit_entry(tmp_path, capsys):
    url = seeded(tmp_path)
    args = ["--database-url", url, "directory", "verify", "nepacs-frankland-visitors-centre",
            "--source", "https://nepacs.co.uk/page/frankland", "--by", "Sam", "--on", "2026-12-02"]
    assert main(args) == 0
    with db.session_factory(url)() as s:
        service = s.get(Service, "nepacs-frankland-visitors-centre")
        assert (service.state, service.last_verified, service.checked_source) == ("verified", date(2026, 12, 2), "https://nepacs.co.uk/page/frankland")
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "directory_verified")).scalar_one()
        assert entry.detail == "nepacs-frankland-visitors-centre checked 2026-12-02 against https://nepacs.co.uk/page/frankland by Sam"
    # A reload of the older seed keeps the newer check.
    with db.session_factory(url)() as s, s.begin():
        load_seed(s)
    with db.session_factory(url)() as s:
        assert s.get(Service, "nepacs-frankland-visitors-centre").state == "verified"

    capsys.readouterr()
    closed = ["--database-url", url, "directory", "verify", "hmp-wolds-family-learning", "--source", "https://example.org", "--by", "Sam"]
    assert main(closed) == 1
    assert "hmp-wolds-family-learning: state: is closed" in capsys.readouterr().err
    try:  # a check must name what it was checked against
        main(["--database-url", url, "directory", "verify", "nepacs-frankland-visitors-centre", "--by", "Sam"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("verify without --source was accepted")
