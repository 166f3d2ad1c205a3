"""Test doubles at the providers' HTTP boundary, and a way to serve a channel's blueprint.

`FakeProviders` is one small aiohttp server (in its own thread and event loop) that speaks
just enough of Twilio's Messages API and Telegram's Bot API for the real `twilio` and
`python-telegram-bot` libraries to talk to it, and records every request it gets. For
WhatsApp it checks what Twilio checks (a WhatsApp sender for a WhatsApp recipient, a body or
an `HX` Content SID, at most 1600 characters) and, like WhatsApp, fails our own words sent
outside the 24 hours after the person last wrote (error 63016, after accepting the request as
Twilio does): tests tell it when the person wrote (`whatsapp_wrote`).
`ChannelServer` serves a real Rasa input channel's Sanic blueprint on a free port, with a
scripted stand-in for Rasa (tests/channels/test_*.py) that answers through the channel's
real output channel.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web
from twilio.request_validator import RequestValidator
from bot.servers import free_port

TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-twilio-auth-token"
TWILIO_NUMBER = "+447700900000"
WHATSAPP_NUMBER = "whatsapp:+447700900001"
TEMPLATE_SID = "HX" + "0123456789abcdef" * 2
WHATSAPP_WINDOW = 24 * 3600
TELEGRAM_TOKEN = "123456:TEST-token"
TELEGRAM_SECRET = "test-telegram-secret"



def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `condition` until it is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@dataclass
class Call:
    """One request the fake received: the API method and its parameters."""

    api: str  # "twilio" or "telegram"
    method: str  # "Messages.create", "sendMessage", ...
    params: dict[str, Any]


class _Thread:
    """An asyncio event loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@dataclass
class FakeProviders:
    """Fake Twilio REST API and Telegram Bot API on http://127.0.0.1:<port>."""

    port: int = field(default_factory=free_port)
    calls: list[Call] = field(default_factory=list)
    blocked_numbers: set[str] = field(default_factory=set)  # Twilio answers 21610 for these
    webhook: dict[str, Any] = field(default_factory=dict)
    last_wrote: dict[str, float] = field(default_factory=dict)  # WhatsApp address -> when they last wrote
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def telegram_api_url(self) -> str:
        return f"{self.url}/bot"

    def start(self) -> "FakeProviders":
        self._lock = threading.Lock()
        self._thread = _Thread()
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._twilio_message)
        app.router.add_post("/bot{token}/{method}", self._telegram)
        self._runner = web.AppRunner(app, access_log=None)

        async def serve() -> None:
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        self._thread.run(serve())
        return self

    def stop(self) -> None:
        self._thread.run(self._runner.cleanup())
        self._thread.stop()

    def __enter__(self) -> "FakeProviders":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what was received --------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def sms(self, to: str | None = None) -> list[dict[str, Any]]:
        """Messages sent through the fake Twilio API (optionally to one number)."""
        with self._lock:
            return [c.params for c in self.calls if c.method == "Messages.create" and to in (None, c.params.get("To"))]

    def telegram(self, method: str = "sendMessage", chat_id: int | None = None) -> list[dict[str, Any]]:
        """Bot API calls of one method (optionally to one chat)."""
        with self._lock:
            return [
                c.params for c in self.calls
                if c.api == "telegram" and c.method == method and chat_id in (None, c.params.get("chat_id"))
            ]

    def whatsapp(self, to: str | None = None, *, delivered: bool | None = None) -> list[dict[str, Any]]:
        """Messages sent to WhatsApp addresses (optionally to one number, E.164 or whatsapp:+44…),
        `delivered` True for those WhatsApp would show, False for those it failed."""
        address = None if to is None else "whatsapp:" + to.removeprefix("whatsapp:")
        return [
            m for m in self.sms()
            if str(m.get("To", "")).startswith("whatsapp:") and address in (None, m.get("To"))
            and delivered in (None, "_error" not in m)
        ]

    def whatsapp_wrote(self, number: str, at: float | None = None) -> None:
        """The person wrote to us by WhatsApp at `at` (default now): the window is open 24 hours."""
        with self._lock:
            self.last_wrote["whatsapp:" + number.removeprefix("whatsapp:")] = time.time() if at is None else at

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # --- Twilio's Messages API --------------------------------------------------------------
    async def _twilio_message(self, request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        auth = request.headers.get("Authorization", "")
        form = dict(await request.post())
        call = Call("twilio", "Messages.create", {**form, "_account": sid, "_auth": auth})
        self._record(call)
        if not auth.startswith("Basic "):
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        if form.get("To") in self.blocked_numbers:
            return web.json_response(
                {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}, status=400
            )
        if str(form.get("To", "")).startswith("whatsapp:"):
            refusal = self._whatsapp_checks(call.params)
            if refusal is not None:
                call.params["_error"] = refusal[0]
                return web.json_response({"code": refusal[0], "message": refusal[1], "status": 400}, status=400)
        message_sid = f"SM{uuid.uuid4().hex}"
        return web.json_response(
            {
                "sid": message_sid, "account_sid": sid, "to": form.get("To"), "from": form.get("From"),
                "body": form.get("Body"), "status": "queued", "num_segments": "1", "direction": "outbound-api",
                "api_version": "2010-04-01", "date_created": "Mon, 01 Dec 2026 06:00:00 +0000",
                "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
            },
            status=201,
        )

    def _whatsapp_checks(self, form: dict[str, Any]) -> tuple[int, str] | None:
        """Twilio's refusals of a WhatsApp message (code, message); None when it takes it. Our own
        words outside the window are taken, then failed (63016), as Twilio does."""
        if not str(form.get("From", "")).startswith("whatsapp:"):
            return 21910, "Invalid From and To pair. From and To should be of the same channel"
        content_sid, body = form.get("ContentSid"), form.get("Body")
        if content_sid is not None:
            if not (len(content_sid) == 34 and content_sid.startswith("HX")):
                return 21656, "The ContentSid is Invalid"
            try:
                json.loads(form.get("ContentVariables") or "{}")
            except ValueError:
                return 21656, "The ContentVariables Parameter is invalid"
            return None
        if not body:
            return 21619, "A text message body or media URL must be specified"
        if len(body) > 1600:
            return 21617, "The concatenated message body exceeds the 1600 character limit"
        with self._lock:
            wrote = self.last_wrote.get(form["To"])
        if wrote is None or time.time() - wrote > WHATSAPP_WINDOW:
            form["_error"] = 63016  # "Failed to send freeform message ... outside the allowed window"
        return None

    # --- Telegram's Bot API ---------------------------------------------------------------
    async def _telegram(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = {}
            for key, value in (await request.post()).items():
                try:
                    params[key] = json.loads(value)
                except (TypeError, ValueError):
                    params[key] = value
        self._record(Call("telegram", method, params))
        if token != TELEGRAM_TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        if method == "getMe":
            result: Any = {"id": 4242, "is_bot": True, "first_name": "Families Connect", "username": "fc_test_bot"}
        elif method == "sendMessage":
            result = {
                "message_id": next(self._ids), "date": int(time.time()),
                "chat": {"id": params.get("chat_id"), "type": "private"}, "text": params.get("text"),
            }
            if "reply_markup" in params:
                result["reply_markup"] = params["reply_markup"]
        elif method == "setWebhook":
            self.webhook = params
            result = True
        elif method == "getWebhookInfo":
            result = {
                "url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0,
                "allowed_updates": self.webhook.get("allowed_updates", []),
            }
        elif method == "deleteWebhook":
            self.webhook = {}
            result = True
        else:  # answerCallbackQuery, setMyCommands, ...
            result = True
        return web.json_response({"ok": True, "result": result})


# --- requests the providers would make to us ----------------------------------------------
def twilio_signature(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_form(url: str, params: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, str]:
    """POST a form as Twilio does; returns (status, body)."""
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
    )
    return _open(request)


def post_json(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """POST JSON as Telegram does; returns (status, body)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
    return _open(request)


def _open(request: urllib.request.Request) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


_sms_ids = itertools.count(1)
_update_ids = itertools.count(100000 + int(time.time()) % 100000)


def inbound_sms(sender: str, body: str, message_sid: str | None = None, **extra: str) -> dict[str, str]:
    """The form Twilio posts for an incoming SMS."""
    return {
        "MessageSid": message_sid or f"SM{uuid.uuid4().hex}", "SmsSid": message_sid or "", "AccountSid": TWILIO_SID,
        "From": sender, "To": TWILIO_NUMBER, "Body": body, "NumMedia": "0", "NumSegments": "1",
        "ApiVersion": "2010-04-01", "FromCity": "", "FromState": "", "FromCountry": "GB", **extra,
    }


def inbound_whatsapp(number: str, body: str = "", message_sid: str | None = None, media: tuple[str, ...] = (),
                     **extra: str) -> dict[str, str]:
    """The form Twilio posts for an incoming WhatsApp message (`media`: content types attached)."""
    sid = message_sid or f"{'MM' if media else 'SM'}{uuid.uuid4().hex}"
    form = {
        "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": TWILIO_SID,
        "From": "whatsapp:" + number, "To": WHATSAPP_NUMBER, "Body": body, "NumMedia": str(len(media)),
        "NumSegments": "1", "ProfileName": "Sam", "WaId": number.lstrip("+"), "ApiVersion": "2010-04-01",
        "MessageType": (media[0].split("/")[0] if media else "text"),
    }
    for i, content_type in enumerate(media):
        form[f"MediaContentType{i}"] = content_type
        form[f"MediaUrl{i}"] = f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}/Media/ME{i}"
    return {**form, **extra}


def telegram_message(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    """An Update with a private text message."""
    return {
        "update_id": update_id or next(_update_ids),
        "message": {
            "message_id": next(_update_ids), "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": "private", "first_name": "Sam"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Sam"},
        },
    }


def telegram_callback(chat_id: int, data: str, update_id: int | None = None) -> dict[str, Any]:
    """An Update with an inline-keyboard press."""
    return {
        "update_id": update_id or next(_update_ids),
        "callback_query": {
            "id": f"cb{next(_update_ids)}", "chat_instance": "ci", "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Sam"},
            "message": {
                "message_id": 7, "date": int(time.time()), "text": "(the question)",
                "chat": {"id": chat_id, "type": "private", "first_name": "Sam"},
                "from": {"id": 4242, "is_bot": True, "first_name": "Families Connect"},
            },
        },
    }


# --- serving a channel ------------------------------------------------------------------
class ChannelServer:
    """A real Sanic app serving one input channel's blueprint at /webhooks/<name>/ on a free
    port, in its own thread; `on_new_message` stands in for Rasa."""

    def __init__(self, channel: Any, on_new_message: Callable[[Any], Awaitable[Any]]) -> None:
        from sanic import Sanic

        # As sanic-testing does: lets one process start several apps (Sanic's "touchup"
        # rewrites methods once per class otherwise, and fails the second time).
        Sanic.test_mode = True
        self.port = free_port()
        self.app = Sanic(f"channel_test_{uuid.uuid4().hex[:8]}")
        self.app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
        self.name = channel.name()

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/{self.name}/webhook"

    def start(self) -> "ChannelServer":
        self._thread = _Thread()

        async def serve() -> Any:
            server = await self.app.create_server(
                host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
            )
            await server.startup()
            await server.before_start()
            await server.after_start()
            return server

        self._server = self._thread.run(serve())
        return self

    def stop(self) -> None:
        async def close() -> None:
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()
            await self._server.after_stop()

        self._thread.run(close())
        self._thread.stop()

    def __enter__(self) -> "ChannelServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeRasa:
    """Stands in for Rasa's `on_new_message`: records each UserMessage and answers through
    the message's real output channel, with scripted responses (default: an echo)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.received: list[Any] = []
        self.answers: dict[str, list[dict[str, Any]]] = {}
        self.delay = delay

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.received]

    async def __call__(self, message: Any) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        for response in self.answers.get(message.text) or [{"text": f"You said: {message.text}"}]:
            await message.output_channel.send_response(message.sender_id, dict(response))
