"""Live handoff: a worker takes a conversation from the bot, replies, and hands it back.

Rasa pauses a conversation on a `ConversationPaused` event (our action_handoff returns it)
and then only records what the person writes. The console talks to Rasa's HTTP API:
a worker's reply is appended as a `bot` event with `output_channel=latest` and side
effects on, so Rasa delivers it on the person's own channel (web chat, SMS, Telegram);
handing back appends `resume` and runs a response saying the assistant is back.

The rules for a worker in a live chat live here too (the console only asks): who may reply
(`reply_target`), that the person is told once when a worker joins (`claim`), and that a
chat is handed back to the assistant before it is closed (`hand_back_target`, `keeps_open`).

Nobody waiting for a person is left in silence: `sweep` (run every 30 seconds with the
retention job) hands an unclaimed live chat back to the assistant after LIVE_CHAT_WAIT_MINUTES,
and every waiting chat at once when nobody is on shift, with the offer of a call back.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from urllib.parse import quote

import aiohttp
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot import db
from bot.api_auth import auth_headers
from bot.referrals import cases
from bot.referrals.models import KIND_LIVE, Case
from bot.settings import Settings
from bot.staff.models import StaffUser

logger = logging.getLogger(__name__)

JOINED_RESPONSE = "utter_handoff_worker_joined"
HANDED_BACK_RESPONSE = "utter_handoff_ended"
# The sweep: the intent it triggers (-> action_handoff_timed_out -> the offer of a call back),
# the outcome it records, and how long a sweeper's claim on a case lasts before another may
# retry it (a sweeper that died between claiming and handing back).
TIMEOUT_INTENT = "EXTERNAL_handoff_timeout"
TIMED_OUT_OUTCOME = "handed back to the assistant: nobody free"
HANDING_BACK = "handing back to the assistant"
SWEEP_LEASE = timedelta(minutes=2)
MAX_REPLY_CHARS = 2000


class RasaUnavailable(RuntimeError):
    """Rasa's HTTP API did not take the request; the message says what to tell the worker."""


def staff_on_shift(*, session: Session, now: datetime | None = None) -> bool:
    """Whether any active worker is on shift now (so a person can join a chat)."""
    now = now or datetime.utcnow()
    return (
        session.execute(
            select(StaffUser.id).where(StaffUser.active.is_(True), StaffUser.on_shift_until > now).limit(1)
        ).scalar_one_or_none()
        is not None
    )


def start_shift(user_id: int, hours: int, *, session: Session) -> datetime:
    """Put a worker on shift for `hours` from now (live chats are offered); until when."""
    until = datetime.utcnow() + timedelta(hours=hours)
    session.execute(update(StaffUser).where(StaffUser.id == user_id).values(on_shift_until=until))
    return until


def end_shift(user_id: int, *, session: Session) -> None:
    """Take a worker off shift."""
    session.execute(update(StaffUser).where(StaffUser.id == user_id).values(on_shift_until=None))


def claim(case_id: int, staff_user_id: int, *, session: Session) -> tuple[Case, str | None]:
    """Claim a case for a worker (bot.referrals.cases.claim; CaseError when someone else has
    it): (case, the conversation to tell that a worker has joined). The person is told once,
    when a worker first claims their live chat; otherwise None."""
    case = cases.claim(case_id, staff_user_id, session=session)
    return case, case.sender_id if case.kind == KIND_LIVE and case.newly_claimed else None


def reply_target(case_id: int, staff_user_id: int, text: str, *, session: Session) -> str:
    """The conversation a worker's reply goes to. CaseError says why it may not be sent: only
    in a live chat, only by the worker who claimed it, and 1 to MAX_REPLY_CHARS characters. A
    reply is a first response, if claiming it was not recorded as one."""
    case = cases.get_case(case_id, session=session)
    if case.kind != KIND_LIVE:
        raise cases.CaseError("Replies are only for live chats: call this person back instead.")
    if case.status != "claimed" or case.claimed_by_id != staff_user_id:
        raise cases.CaseError("Claim this chat before replying.")
    if not text:
        raise cases.CaseError("Write a reply first.")
    if len(text) > MAX_REPLY_CHARS:
        raise cases.CaseError(f"A reply can be at most {MAX_REPLY_CHARS} characters.")
    case.first_response_at = case.first_response_at or datetime.utcnow()
    return case.sender_id


def hand_back_target(case_id: int, *, session: Session) -> str | None:
    """Before a case is closed: the conversation to hand back to the assistant first (a live
    chat), or None (a callback). CaseError when the case is already closed."""
    case = cases.get_case(case_id, session=session)
    cases.ensure_open(case)
    return case.sender_id if case.kind == KIND_LIVE else None


def keeps_open(handed_back: bool | None, *, force: bool) -> bool:
    """Whether a case stays open: its chat could not be handed back and the worker did not
    say close anyway (the person would be left in a paused conversation)."""
    return handed_back is False and not force


class RasaClient:
    """The few calls the console makes to Rasa's HTTP API (needs `--enable-api`).

    Each request carries `Authorization: Bearer <JWT>`, a two-minute token signed with the
    `rasa_api` secret (bot/api_auth.py); nothing secret goes in a URL.

    With several Rasa servers (RASA_URL comma-separated) the first that answers is used. A
    server that refuses the connection never saw the request: the next is tried, and the refuser
    is tried last for `skip_seconds`. A request that was sent and then failed (the server died
    while answering, a timeout) may have been carried out, so a write is never sent again (a
    worker's reply must not reach the person twice): the worker is told to check the
    conversation. Only reads go on to the next server."""

    def __init__(self, base_url: str | list[str], secret: str | None = None, timeout: float = 15, skip_seconds: float = 5) -> None:
        urls = base_url.split(",") if isinstance(base_url, str) else base_url
        self.base_urls = [u.strip().rstrip("/") for u in urls if u.strip()]
        if not self.base_urls:
            raise ValueError("RasaClient needs Rasa's URL")
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.skip_seconds = skip_seconds
        self._down_until: dict[str, float] = {}

    @classmethod
    def from_settings(cls, settings: Settings, timeout: float = 15) -> "RasaClient":
        """The client every caller uses (console, handoff sweep): Rasa's URLs and the API's
        secret from settings (RASA_AUTH_TOKEN, else the one generated into var/)."""
        return cls(settings.rasa_url_list(), settings.secret("rasa_api"), timeout=timeout)

    def servers(self, now: float | None = None) -> list[str]:
        """The servers in the order to try: as configured, those that refused lately last."""
        now = time.monotonic() if now is None else now
        return sorted(self.base_urls, key=lambda url: self._down_until.get(url, 0.0) > now)

    def _path(self, sender_id: str, path: str) -> str:
        # Sanic 21.12 does not decode path parameters: "sms:+447..." must stay as it is.
        return f"/conversations/{quote(sender_id, safe='+:')}/{path}?output_channel=latest&execute_side_effects=true"

    def _headers(self) -> dict[str, str]:
        return auth_headers(self.secret) if self.secret else {}

    async def request(self, method: str, path: str, body: object | None = None) -> object:
        """One call to the first server that takes it: a read's JSON (None for a write);
        RasaUnavailable otherwise. (The console only writes today; a read is safe to send on.)"""
        retry_after_sending = method in ("GET", "HEAD")
        async with aiohttp.ClientSession(timeout=self.timeout) as http:
            for base in self.servers():
                try:
                    async with http.request(method, base + path, json=body, headers=self._headers()) as reply:
                        if reply.status != 200:
                            raise RasaUnavailable(f"the assistant answered {reply.status}")
                        if not retry_after_sending:
                            return None  # done: what a write answers is not needed
                        return await reply.json(content_type=None)
                except aiohttp.ClientConnectorError:
                    # Never connected, so never received: the next server may have it.
                    self._down_until[base] = time.monotonic() + self.skip_seconds
                    logger.warning("Rasa server %s refused the connection; trying the next", base)
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    self._down_until[base] = time.monotonic() + self.skip_seconds
                    if not retry_after_sending:
                        raise RasaUnavailable(
                            "the assistant stopped while taking this: check the conversation before sending it again"
                        ) from exc
                    logger.warning("Rasa server %s failed a read (%s); trying the next", base, type(exc).__name__)
        raise RasaUnavailable("the assistant could not be reached")

    async def _post(self, path: str, body: object) -> None:
        await self.request("POST", path, body)

    async def say(self, sender_id: str, text: str, worker: str) -> None:
        """Send a worker's message to the person on their channel, and keep it in the transcript."""
        await self._post(self._path(sender_id, "tracker/events"), [{"event": "bot", "text": text, "metadata": {"staff": worker}}])

    async def utter(self, sender_id: str, response: str) -> None:
        """Have the assistant send one of its responses (e.g. a worker has joined)."""
        await self._post(self._path(sender_id, "execute"), {"name": response})

    async def pause(self, sender_id: str) -> None:
        await self._post(self._path(sender_id, "tracker/events"), [{"event": "pause"}])

    async def hand_back(self, sender_id: str) -> None:
        """Un-pause the conversation and tell the person the assistant is back."""
        await self._post(self._path(sender_id, "tracker/events"), [{"event": "resume"}])
        await self.utter(sender_id, HANDED_BACK_RESPONSE)

    async def time_out(self, sender_id: str) -> None:
        """Nobody came: un-pause and have the assistant offer a call back.

        While paused Rasa records the person's messages without listening for them, so the
        tracker's last action is not `action_listen`; rules for an intent need it before the
        intent (as after any bot turn), so it is appended with the `resume`. If the trigger
        fails the conversation is paused again, so the person never meets a half-handed-back
        chat and the case can be retried."""
        await self._post(self._path(sender_id, "tracker/events"), [{"event": "resume"}, {"event": "action", "name": "action_listen"}])
        try:
            await self._post(self._path(sender_id, "trigger_intent"), {"name": TIMEOUT_INTENT, "entities": {}})
        except RasaUnavailable:
            try:
                await self.pause(sender_id)
            except RasaUnavailable:
                pass
            raise


def _claim_for_sweep(case_id: int, now: datetime, *, session: Session) -> bool:
    """Take a waiting case for this sweeper: a conditional UPDATE, so of several sweepers (and
    a worker claiming it) exactly one changes it. Other sweepers leave it for SWEEP_LEASE."""
    claimed = session.execute(
        update(Case)
        .where(
            Case.id == case_id,
            or_(
                Case.status == "new",
                (Case.status == "closed") & (Case.outcome == HANDING_BACK) & (Case.closed_at <= now - SWEEP_LEASE),
            ),
        )
        .values(status="closed", outcome=HANDING_BACK, closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


async def sweep(settings: Settings, now: datetime | None = None, *, client: RasaClient | None = None) -> int:
    """Hand unclaimed live chats back to the assistant with the offer of a call back: those
    waiting longer than LIVE_CHAT_WAIT_MINUTES, or all of them when nobody is on shift.
    Returns how many were handed back.

    Each case is claimed and committed first (closed, outcome HANDING_BACK), then Rasa is
    asked, then the outcome is recorded; if Rasa fails the case is reopened to be retried on
    the next sweep, and one conversation's failure never stops the others. The database is not
    held during the call: Rasa's web chat channel writes the offer to our outbox."""
    now = now or datetime.utcnow()
    factory = db.session_factory(settings.database_url)
    with factory() as session:
        waiting = Case.status == "new"
        if staff_on_shift(session=session, now=now):
            waiting = waiting & (Case.created_at <= now - timedelta(minutes=settings.live_chat_wait_minutes))
        stuck = (Case.status == "closed") & (Case.outcome == HANDING_BACK) & (Case.closed_at <= now - SWEEP_LEASE)
        due = session.execute(
            select(Case.id, Case.sender_id).where(Case.kind == KIND_LIVE, or_(waiting, stuck)).order_by(Case.priority_rank, Case.id)
        ).all()
    if not due:
        return 0
    client = client or RasaClient.from_settings(settings, timeout=10)
    handed_back = 0
    for case_id, sender_id in due:
        claimed = db.attempt(
            lambda session: _claim_for_sweep(case_id, now, session=session),
            what=f"claim live-chat case {case_id} for the sweep", write=True, sessions=factory, otherwise=False,
        )
        if not claimed:
            continue  # a worker or another sweeper has it, or the database could not be reached
        try:
            await client.time_out(sender_id)
        except RasaUnavailable as error:
            logger.warning("live-chat sweep could not hand back case %d (%s); will retry", case_id, error)
            outcome = {"status": "new", "outcome": None, "closed_at": None}
        else:
            outcome = {"outcome": TIMED_OUT_OUTCOME}
            handed_back += 1
        # If this cannot be written, the lease runs out and a later sweep retries.
        db.attempt(
            lambda session: session.execute(
                update(Case).where(Case.id == case_id, Case.status == "closed", Case.outcome == HANDING_BACK)
                .values(updated_at=now, **outcome).execution_options(synchronize_session=False)
            ),
            what=f"record the sweep's outcome for live-chat case {case_id}", write=True, sessions=factory, otherwise=None,
        )
    if handed_back:
        logger.info("live-chat sweep: %d waiting chats handed back to the assistant", handed_back)
    return handed_back
