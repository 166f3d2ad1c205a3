"""Conversation ids (Rasa's sender ids) that carry their channel, so one channel's id can never
be used on another to reach someone else's conversation (issue 12, item 1):

- SMS: `sms:+447700900123` (the E.164 number Twilio gives as `From`);
- WhatsApp: `wa:+447700900123` (Twilio's `From` is `whatsapp:+447700900123`; a separate
  conversation from the same number's SMS one: bot/channels/whatsapp_window.py);
- Telegram: `tg:<chat id>`;
- web chat: `wc:<token>.<mac>`, issued by the server only (`POST /webhooks/webchat/session`):
  a 128-bit random token and an HMAC-SHA256 of it (truncated to 128 bits) under the key
  `Settings.secret("webchat")` (WEBCHAT_SECRET, else generated into var/). The web chat
  accepts only ids that verify, so a Telegram chat id, a phone number or a made-up id is
  refused, and knowing one web chat id tells nothing about another.

Where a channel sends out, the prefix is stripped (`address_of`): Twilio's `to`, Telegram's
`chat_id`. Rows written before these ids (SMS menus and opt-outs keyed by the bare number)
are not migrated: a number that opted out before is still blocked by Twilio itself, and we
record the opt-out again under the new id on Twilio's refusal (error 21610).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

SMS, TELEGRAM, WEBCHAT, WHATSAPP = "sms", "tg", "wc", "wa"
TOKEN_BYTES = 16  # 128 bits
MAC_BYTES = 16
_B64 = r"[A-Za-z0-9_-]"
WEBCHAT_ID = re.compile(rf"^wc:({_B64}{{22}})\.({_B64}{{22}})$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(key: str, token: str) -> str:
    digest = hmac.new(key.encode(), f"{WEBCHAT}:{token}".encode(), hashlib.sha256).digest()
    return _b64(digest[:MAC_BYTES])


def _key(key: str | None) -> str:
    if key:
        return key
    from bot.settings import Settings

    return Settings.from_env().secret("webchat")


def issue(key: str | None = None) -> str:
    """A new web chat id, signed with `key` (default: the install's web chat secret)."""
    token = _b64(secrets.token_bytes(TOKEN_BYTES))
    return f"{WEBCHAT}:{token}.{_mac(_key(key), token)}"


def verify(sender: object, key: str | None = None) -> bool:
    """Whether `sender` is a web chat id this server issued (constant-time comparison)."""
    if not isinstance(sender, str):
        return False
    match = WEBCHAT_ID.match(sender)
    if not match:
        return False
    token, mac = match.groups()
    return hmac.compare_digest(_mac(_key(key), token).encode(), mac.encode())


def sms(number: str) -> str:
    return f"{SMS}:{number}"


def telegram(chat_id: int | str) -> str:
    return f"{TELEGRAM}:{chat_id}"


def channel_of(sender: str) -> str | None:
    """"sms", "wa", "tg" or "wc" for an id that carries its channel, else None (REST, old ids)."""
    prefix, sep, _ = (sender or "").partition(":")
    return prefix if sep and prefix in (SMS, WHATSAPP, TELEGRAM, WEBCHAT) else None


def address_of(sender: str) -> str:
    """What the channel sends to: the phone number of `sms:…` and `wa:…`, the chat id of `tg:…`;
    anything else unchanged."""
    if channel_of(sender) in (SMS, WHATSAPP, TELEGRAM):
        return sender.split(":", 1)[1]
    return sender


def phone_of(sender: str) -> str | None:
    """The phone number an SMS conversation comes from, else None."""
    return address_of(sender) if channel_of(sender) == SMS else None
