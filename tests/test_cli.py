"""The `bot` command against a real SQLite database."""
from __future__ import annotations

import json

from bot import db
from bot.cli import main


def test_load_search_verify_export_import(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--database-url", url, "directory", "load-seed"]) == 0
    assert main(["--database-url", url, "directory", "load-seed"]) == 0
    out = capsys.readouterr().out
    assert "0 created, 0 updated" in out.splitlines()[-1]

    assert main(["--database-url", url, "directory", "search", "--area", "stockon", "--audience", "family"]) == 0
    assert capsys.readouterr().out.startswith("Stockton-on-Tees: page 1")

    assert main(["--database-url", url, "directory", "verify", "nepacs-durham-visitors-centre", "--source", "https://nepacs.co.uk/page/durham", "--by", "Sam"]) == 0
    assert "verified 20" in capsys.readouterr().out

    path = tmp_path / "out.json"
    assert main(["--database-url", url, "directory", "export", str(path)]) == 0
    exported = json.loads(path.read_text())["services"]
    durham = next(s for s in exported if s["x_families_connect"]["key"] == "nepacs-durham-visitors-centre")
    assert durham["assured_date"] and durham["x_families_connect"]["state"] == "verified"
    assert "verified_by" not in durham["x_families_connect"]  # a worker's name is never published
    assert main(["--database-url", url, "directory", "import", str(path)]) == 0
    assert f"0 created, 0 updated, {len(exported)} unchanged" in capsys.readouterr().out


def test_errors_are_clear_and_exit_non_zero(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "x", "name": "X", "organization": {"id": "o", "name": "O"}, "service_areas": [{"service_area": "Atlantis"}]}]))
    assert main(["--database-url", url, "directory", "import", str(bad)]) == 1
    assert "record 1 (id x): service_areas[0].service_area: unknown area 'Atlantis'" in capsys.readouterr().err
    assert main(["--database-url", url, "directory", "verify", "no-such-service", "--source", "https://example.org", "--by", "Sam"]) == 1
    assert "no service with id 'no-such-service'" in capsys.readouterr().err
    assert main(["--database-url", url, "directory", "search", "--area", "Atlantis"]) == 1
    assert "no UK council or postcode district matches 'Atlantis'" in capsys.readouterr().err


def test_data_purge_carries_out_erasure_requests(tmp_path, monkeypatch, capsys):
    from bot.referrals import cases

    from bot.conversations import create_table

    url = f"sqlite:///{tmp_path / 'fc.db'}"
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    assert main(["--database-url", url, "db", "upgrade"]) == 0
    with db.session_factory(url)() as s, s.begin():
        cases.request_erasure("someone", session=s)
    # Rasa has not made its tables (or TRACKER_STORE_URL is not Rasa's): pending, and said so.
    assert main(["--database-url", url, "data", "purge", "--settle-seconds", "0"]) == 1
    out = capsys.readouterr()
    assert "erasure requests carried out: 0;" in out.out
    assert "1 erasure request(s) NOT carried out and still pending: the tracker store has no events table" in out.err
    create_table(db.engine_for(tracker_url))
    assert main(["--database-url", url, "data", "purge", "--settle-seconds", "0"]) == 0
    out = capsys.readouterr().out
    assert "erasure requests carried out: 1;" in out and "erasure requests pending: 1" in out


def test_telegram_commands_say_what_is_missing(monkeypatch, capsys):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    assert main(["telegram", "set-webhook", "https://example.org"]) == 1
    assert "set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first" in capsys.readouterr().err


def test_insights_update_and_review_export(tmp_path, monkeypatch, capsys):
    """`bot insights update` reads the tracker store into the summaries; `bot review export`
    writes the labelled messages as NLU YAML once (again with --all), audited with counts only."""
    from sqlalchemy import select

    from bot.insights import review
    from bot.insights.models import ConversationSummary, ReviewLabel
    from bot.staff.models import AuditEntry
    from tests.support.conversations import save_conversation

    url = f"sqlite:///{tmp_path / 'fc.db'}"
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    save_conversation(tracker_url, "sms:+447700900123", [("user", "can he get a parcel at christmas", "nlu_fallback", 0.2),
                                                         ("action", "utter_default")], started=1_790_000_000)
    assert main(["--database-url", url, "insights", "update"]) == 0
    assert "tracker events read into the conversation summaries: 2" in capsys.readouterr().out
    with db.session_factory(url)() as s, s.begin():
        assert s.get(ConversationSummary, "sms:+447700900123").fallbacks == 1
        review.label("sms:+447700900123", 1_790_000_000, "ask_send_property", None, session=s)

    out = tmp_path / "reviewed.yml"
    assert main(["--database-url", url, "review", "export", "--out", str(out)]) == 0
    assert "1 example written; written to" in capsys.readouterr().err
    assert "- intent: ask_send_property\n  examples: |\n    - can he get a parcel at christmas\n" in out.read_text()
    assert main(["--database-url", url, "review", "export"]) == 0
    printed = capsys.readouterr()
    assert "nlu: []" in printed.out and "0 examples written" in printed.err
    assert main(["--database-url", url, "review", "export", "--all", "--since", "2000-01-01"]) == 0
    assert "christmas" in capsys.readouterr().out
    with db.session_factory(url)() as s:
        assert s.execute(select(ReviewLabel.exported_at)).scalar_one() is not None
        details = [e.detail for e in s.execute(select(AuditEntry).where(AuditEntry.action == "review_export")).scalars()]
    assert len(details) == 3 and details[0].startswith("1 example written") and not any("+44" in d or "christmas" in d for d in details)
