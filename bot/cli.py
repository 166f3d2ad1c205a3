"""The `bot` command: database and service-directory tasks for staff and deployments.

    bot db upgrade                         create or update the database schema
    bot directory load-seed                load the seed documents' services (again: updates)
    bot directory import FILE              import an Open Referral UK JSON file
    bot directory export [FILE]            export every service as Open Referral UK JSON
    bot directory verify SERVICE_ID --source URL [--by NAME] [--on DATE]
                                           record that staff checked an entry against a source (audited)
    bot directory audit [--csv PATH | --format csv]   every entry by state and age, oldest check first
    bot directory search --area PLACE [--need NEED] [--audience WHO] [--page N]
    bot staff add-user USERNAME [--role worker|admin] [--name "Display Name"] [--password-stdin]
    bot staff list                         staff accounts (no passwords)
    bot staff deactivate USERNAME          stop an account logging in (ends its sessions)
    bot staff set-password USERNAME [--password-stdin]
    bot data purge [--settle-seconds N]    carry out "delete my details" requests and redactions; erase
                                           conversations, cases, queued replies and SMS menus past their
                                           retention (run by cron in production); exits 1 while an erasure
                                           cannot be carried out
    bot handoff sweep                      hand unclaimed live chats back to the assistant (run with purge)
    bot telegram set-webhook [URL] [--drop-pending-updates]   register the Telegram webhook and secret
    bot telegram webhook-info | delete-webhook
    bot channels prune [--days N]          forget provider message ids older than N days (default 7)
    bot insights update [--max-seconds N]  bring the conversation summaries up to date (the schedule does it too)
    bot review export [--out FILE] [--all] [--since DATE]
                                           reviewers' labelled messages as Rasa NLU YAML (not exported yet,
                                           or --all), to add to data/nlu
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import sys
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot import db, handoff, retention
from bot.insights import nlu_export, summary
from bot.directory import areas, oruk, records, search, seed
from bot.directory import audit as directory_audit
from bot.directory.taxonomy import AUDIENCE_ELIGIBILITY, NEEDS
from bot.settings import Settings
from bot.staff import accounts as auth  # staff accounts are a core model now (bot.staff)
from bot.staff import audit


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _session(url: str):
    return db.session_factory(url)()


def build_parser() -> argparse.ArgumentParser:
    """The `bot` command's arguments: one subcommand group per area."""
    parser = argparse.ArgumentParser(prog="bot", description="Families Connect: database and service directory")
    parser.add_argument("--database-url", help="default: DATABASE_URL, else SQLite in var/")
    # "group", not "area": `directory search --area` is a place.
    sub = parser.add_subparsers(dest="group", required=True)

    db_cmd = sub.add_parser("db", help="the database schema").add_subparsers(dest="action", required=True)
    db_cmd.add_parser("upgrade", help="create or update the schema (Alembic)")
    _add_directory_commands(sub)
    _add_staff_commands(sub)
    _add_review_commands(sub)

    data = sub.add_parser("data", help="data rights and retention").add_subparsers(dest="action", required=True)
    purge = data.add_parser("purge", help="erasure requests, then conversations and cases past their retention")
    purge.add_argument("--settle-seconds", type=float, default=5, help="leave erasure requests younger than this (Rasa may still be saving)")

    handoff_cmd = sub.add_parser("handoff", help="live chats").add_subparsers(dest="action", required=True)
    handoff_cmd.add_parser("sweep", help="hand unclaimed live chats back to the assistant with the offer of a call back")

    tg = sub.add_parser("telegram", help="the Telegram bot's webhook").add_subparsers(dest="action", required=True)
    hook = tg.add_parser("set-webhook", help="register https://HOST/webhooks/telegram/webhook with the secret token")
    hook.add_argument("url", nargs="?", help="public URL or base (default: TELEGRAM_WEBHOOK_URL)")
    hook.add_argument("--drop-pending-updates", action="store_true")
    tg.add_parser("webhook-info", help="what Telegram has registered")
    tg.add_parser("delete-webhook", help="stop Telegram sending updates")
    channels = sub.add_parser("channels", help="SMS and Telegram housekeeping").add_subparsers(dest="action", required=True)
    prune = channels.add_parser("prune", help="forget provider message ids (kept to refuse retries) after N days")
    prune.add_argument("--days", type=int, default=7)
    return parser


def _add_directory_commands(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("directory", help="the service directory").add_subparsers(dest="action", required=True)
    d.add_parser("load-seed", help="load the services named in the seed documents")
    imp = d.add_parser("import", help="import an Open Referral UK JSON file")
    imp.add_argument("file", type=Path)
    exp = d.add_parser("export", help="export as Open Referral UK JSON (stdout without FILE)")
    exp.add_argument("file", type=Path, nargs="?")
    ver = d.add_parser("verify", help="record that an entry was checked against a source and is current")
    ver.add_argument("service_id")
    ver.add_argument("--source", required=True, help="the URL or document it was checked against")
    ver.add_argument("--by", help="who checked it (default: your login name)")
    ver.add_argument("--on", type=_iso_date, help="the date of the check, YYYY-MM-DD (default: today)")
    aud = d.add_parser("audit", help="every entry by state and age (oldest check first), as a table or CSV")
    aud.add_argument("--csv", type=Path, metavar="PATH", help="write CSV to PATH")
    aud.add_argument("--format", choices=("table", "csv"), default="table", help="what to print to stdout")
    find = d.add_parser("search", help="what the assistant would offer")
    find.add_argument("--area", required=True, help="town, council or postcode")
    find.add_argument("--need", choices=sorted(NEEDS))
    find.add_argument("--audience", choices=sorted(AUDIENCE_ELIGIBILITY))
    find.add_argument("--page", type=int, default=1)


def _add_review_commands(sub: argparse._SubParsersAction) -> None:
    insights = sub.add_parser("insights", help="conversation summaries").add_subparsers(dest="action", required=True)
    upd = insights.add_parser("update", help="read the tracker store's new events into the conversation summaries")
    upd.add_argument("--max-seconds", type=float, help="stop after about this long (the rest is read next time)")
    rv = sub.add_parser("review", help="conversation review").add_subparsers(dest="action", required=True)
    exp = rv.add_parser("export", help="reviewers' labelled messages as Rasa NLU training data (YAML)")
    exp.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (default: stdout)")
    exp.add_argument("--all", action="store_true", help="every label, also those exported before")
    exp.add_argument("--since", type=_iso_date, help="only labels given on or after this date, YYYY-MM-DD")


def _add_staff_commands(sub: argparse._SubParsersAction) -> None:
    staff = sub.add_parser("staff", help="staff console accounts").add_subparsers(dest="action", required=True)
    add = staff.add_parser("add-user", help="make an account (asks for the password twice)")
    add.add_argument("username")
    add.add_argument("--role", choices=("worker", "admin"), default="worker")
    add.add_argument("--name", default="", help="the name shown to colleagues and in live chats")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    staff.add_parser("list", help="list accounts")
    off = staff.add_parser("deactivate", help="stop an account logging in")
    off.add_argument("username")
    pw = staff.add_parser("set-password", help="set a new password (ends the account's sessions)")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")


def main(argv: list[str] | None = None) -> int:
    """Run one `bot` subcommand; the exit status."""
    args = build_parser().parse_args(argv)
    if args.group in ("telegram", "channels"):
        return _channels(args)
    url = args.database_url or Settings.from_env().database_url
    db.upgrade(url)  # every command works on an up-to-date schema
    if args.group == "db":
        print("database schema is up to date")
        return 0
    run_group = {"staff": _staff, "data": _data, "handoff": _handoff, "directory": _directory, "insights": _insights,
                 "review": _review}[args.group]
    return run_group(args, url)


def _data(args: argparse.Namespace, url: str) -> int:
    settings = dataclasses.replace(Settings.from_env(), database_url=url)
    done = retention.run_once(settings, settle_seconds=args.settle_seconds)
    print(
        f"erasure requests carried out: {done.erasures}; conversations older than "
        f"{settings.conversation_retention_days} days erased: {done.conversations}; cases closed over "
        f"{settings.case_retention_days} days ago deleted: {done.cases}; open cases untouched as long deleted: "
        f"{done.stale_cases}; queued replies deleted: {done.outbox_messages}; SMS menus deleted: {done.sms_menus}; "
        f"unsent call-back forms redacted: {done.redactions}"
    )
    if done.erasures_waiting:
        print(
            f"erasure requests pending: {done.erasures_waiting} (erased; checked again "
            f"{settings.erasure_verify_minutes} minutes later, or the conversation was busy)"
        )
    if done.erasures_blocked:
        print(
            f"error: {done.erasures_blocked} erasure request(s) NOT carried out and still pending: the tracker store "
            f"has no events table (is TRACKER_STORE_URL the one Rasa uses, and has Rasa started?)",
            file=sys.stderr,
        )
        return 1
    return 0


def _insights(args: argparse.Namespace, url: str) -> int:
    settings = dataclasses.replace(Settings.from_env(), database_url=url)
    print(f"tracker events read into the conversation summaries: {summary.run_once(settings, budget_seconds=args.max_seconds)}")
    return 0


def _review(args: argparse.Namespace, url: str) -> int:
    """`bot review export`: the YAML to --out or stdout, what was skipped to stderr (audited, counts only)."""
    settings = dataclasses.replace(Settings.from_env(), database_url=url)
    since = datetime.combine(args.since, datetime.min.time()) if args.since else None
    with _session(url) as session, session.begin():
        done = nlu_export.export_labels(
            tracker_engine=db.engine_for(settings.tracker_store_url), session=session, since=since, everything=args.all,
        )
        if args.out:
            args.out.write_text(done.yaml, encoding="utf-8")
        audit.record_system("review_export", f"{done.counts()} (as {getpass.getuser()})", session=session)
    if not args.out:
        sys.stdout.write(done.yaml)
    print(f"{done.counts()}" + (f"; written to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def _handoff(args: argparse.Namespace, url: str) -> int:
    settings = dataclasses.replace(Settings.from_env(), database_url=url)
    print(f"live chats handed back to the assistant: {asyncio.run(handoff.sweep(settings))}")
    return 0


def _directory(args: argparse.Namespace, url: str) -> int:
    actions = {
        "load-seed": _load_seed, "import": _import, "export": _export, "verify": _verify, "audit": _audit, "search": _search,
    }
    try:
        with _session(url) as session, session.begin():
            actions[args.action](args, session)
    except (records.RecordError, oruk.ImportFailed, areas.UnknownArea, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _load_seed(args: argparse.Namespace, session: Session) -> None:
    kept: list = []
    counts = seed.load_seed(session, kept=kept)
    for conflict in kept:
        print(f"conflict: {conflict}")
    print(f"seed services: {counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged"
          f"{_kept(kept)}")


def _import(args: argparse.Namespace, session: Session) -> None:
    report = oruk.import_file(session, args.file, progress=sys.stderr.isatty())
    for note in report.notes[:20]:
        print(f"note: {note}", file=sys.stderr)
    for conflict in report.conflicts:
        print(f"conflict: {conflict}")
    print(f"{args.file}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged{_kept(report.conflicts)}")


def _kept(conflicts: list) -> str:
    """The end of an import's summary: values staff vouched for since the file's check, kept."""
    if not conflicts:
        return ""
    return f"; {len(conflicts)} value(s) staff changed or checked more recently kept (listed above as conflict:)"


def _export(args: argparse.Namespace, session: Session) -> None:
    count = oruk.export_file(session, args.file)
    if args.file:
        print(f"{count} services written to {args.file}")


def _verify(args: argparse.Namespace, session: Session) -> None:
    by = args.by or f"from the command line (as {getpass.getuser()})"
    service = records.mark_verified(session, args.service_id, by, on=args.on, source=args.source)
    # Who recorded which check is audited like other command-line changes (ids and
    # the source's address only: no names of people served, no numbers).
    audit.record_system(
        "directory_verified", f"{service.id} checked {service.last_verified.isoformat()} against {args.source} by {by}",
        session=session,
    )
    print(f"{service.name}: verified {service.last_verified.isoformat()} against {args.source} by {by}")


def _audit(args: argparse.Namespace, session: Session) -> None:
    rows = directory_audit.audit_rows(session)
    if args.csv:
        with args.csv.open("w", encoding="utf-8", newline="") as out:
            directory_audit.write_csv(rows, out)
        print(f"{len(rows)} entries written to {args.csv}")
    elif args.format == "csv":
        directory_audit.write_csv(rows, sys.stdout)
    else:
        directory_audit.write_table(rows, sys.stdout)


def _search(args: argparse.Namespace, session: Session) -> None:
    place = areas.find_place(args.area)
    page = search.search_services(
        session, council=place.council, need=args.need, audience=args.audience, offset=(args.page - 1) * search.PAGE_SIZE
    )
    print(f"{place.council.name}: page {args.page}{' (more after this)' if page.has_more else ''}")
    for found in page.results:
        print(f"  [{areas.SCOPE_NAMES[found.scope]}, {found.state}] {found.name} ({found.organization}) {found.phone or found.url or found.email or ''} as of {found.as_of}")


def _new_password(from_stdin: bool) -> str:
    """The password from stdin's first line, or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise auth.AccountError("The two passwords were not the same.")
    return first


def _channels(args: argparse.Namespace) -> int:
    # Imported only here: the Telegram and Twilio clients add nearly two seconds to every other command.
    from bot.channels import commands

    settings = Settings.from_env()
    if args.database_url:
        settings = dataclasses.replace(settings, database_url=args.database_url)
    try:
        if args.group == "channels":
            db.upgrade(settings.database_url)
            print(f"provider message ids forgotten: {commands.prune_deliveries(args.days, settings=settings)}")
        elif args.action == "set-webhook":
            print(json.dumps(commands.telegram_set_webhook(args.url, args.drop_pending_updates, settings=settings), indent=2))
        elif args.action == "webhook-info":
            print(json.dumps(commands.telegram_webhook_info(settings=settings), indent=2))
        else:
            print("webhook deleted" if commands.telegram_delete_webhook(settings=settings) else "Telegram refused")
    except commands.ChannelNotConfigured as exc:
        print(f"bot {args.group}: {exc}", file=sys.stderr)
        return 1
    return 0


def _staff(args: argparse.Namespace, url: str) -> int:
    try:
        if args.action in ("add-user", "set-password"):
            password = _new_password(args.password_stdin)
        with _session(url) as session, session.begin():
            if args.action == "add-user":
                user = auth.add_user(args.username, password, role=args.role, display_name=args.name, session=session)
                print(f"added {user.role} {user.username} ({user.display_name})")
            elif args.action == "list":
                for user in auth.list_users(session=session):
                    state = "active" if user.active else "deactivated"
                    print(f"{user.username}\t{user.role}\t{state}\t{user.display_name}")
            elif args.action == "deactivate":
                user = auth.deactivate(args.username, session=session)
                print(f"{user.username} can no longer log in")
            elif args.action == "set-password":
                user = auth.set_password(args.username, password, session=session)
                print(f"new password set for {user.username}; their sessions have ended")
    except auth.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
