"""Live handoff: a worker takes a conversation from the bot, replies, and hands it back.

Rasa pauses a conversation on a `ConversationPaused` event (our action_handoff returns it)
and then only records what the person writes. The console talks to Rasa's HTTP API:
a worker's reply is appended as a `bot` event with `output_channel=latest` and side
effects on, so Rasa delivers it on the person's own channel (web chat, SMS, Telegram);
handing back appends `resume` and runs a response saying the assistant is back.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.console.models import StaffUser
from bot.settings import Settings

JOINED_RESPONSE = "utter_handoff_worker_joined"
HANDED_BACK_RESPONSE = "utter_handoff_ended"


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
    until = datetime.utcnow() + timedelta(hours=hours)
    session.execute(update(StaffUser).where(StaffUser.id == user_id).values(on_shift_until=until))
    return until


def end_shift(user_id: int, *, session: Session) -> None:
    session.execute(update(StaffUser).where(StaffUser.id == user_id).values(on_shift_until=None))


class RasaClient:
    """The few calls the console makes to Rasa's HTTP API (needs `--enable-api`)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 15) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    @classmethod
    def from_settings(cls, settings: Settings, timeout: float = 15) -> "RasaClient":
        """The client every caller uses (console, handoff sweep): Rasa's URL and credentials
        from settings."""
        return cls(settings.rasa_url, settings.rasa_auth_token, timeout=timeout)

    def _url(self, sender_id: str, path: str) -> str:
        params = "output_channel=latest&execute_side_effects=true"
        if self.token:
            params += "&token=" + quote(self.token)
        # Sanic 21.12 does not decode path parameters: "+447..." (an SMS sender) must stay as it is.
        return f"{self.base_url}/conversations/{quote(sender_id, safe='+:')}/{path}?{params}"  # ids are sms:+44…, tg:…, wc:…

    async def _post(self, url: str, body: object) -> None:
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http:
                async with http.post(url, json=body) as reply:
                    if reply.status != 200:
                        raise RasaUnavailable(f"the assistant answered {reply.status}")
        except aiohttp.ClientError as exc:
            raise RasaUnavailable("the assistant could not be reached") from exc

    async def say(self, sender_id: str, text: str, worker: str) -> None:
        """Send a worker's message to the person on their channel, and keep it in the transcript."""
        await self._post(self._url(sender_id, "tracker/events"), [{"event": "bot", "text": text, "metadata": {"staff": worker}}])

    async def utter(self, sender_id: str, response: str) -> None:
        """Have the assistant send one of its responses (e.g. a worker has joined)."""
        await self._post(self._url(sender_id, "execute"), {"name": response})

    async def pause(self, sender_id: str) -> None:
        await self._post(self._url(sender_id, "tracker/events"), [{"event": "pause"}])

    async def hand_back(self, sender_id: str) -> None:
        """Un-pause the conversation and tell the person the assistant is back."""
        await self._post(self._url(sender_id, "tracker/events"), [{"event": "resume"}])
        await self.utter(sender_id, HANDED_BACK_RESPONSE)
