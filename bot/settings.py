"""All configuration, read from the environment in one place. Defaults run everything locally."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Settings for one process. Build with `Settings.from_env()`."""

    rasa_port: int
    actions_port: int
    webchat_port: int
    rasa_auth_token: str | None
    model_path: Path
    var_dir: Path
    database_url: str
    # Rasa's tracker store (its endpoints file is written from this, bot/endpoints.py): the console
    # reads transcripts from it and erases them.
    tracker_store_url: str
    console_port: int
    # Where the console reaches Rasa's HTTP API (staff replies, hand back): one URL, or several
    # comma-separated (the production shape's Rasa servers; rasa_url_list, the first healthy one used).
    rasa_url: str
    # Retention: conversations with no message for N days are erased (anonymous counts kept);
    # closed and cancelled cases are deleted N days after closing.
    conversation_retention_days: int
    case_retention_days: int
    # Live handoff: how long a worker's "start shift" lasts unless ended sooner.
    shift_hours: int
    # SMS through Twilio (bot/channels/twilio.py): off unless the SID, token, number and the
    # public webhook URL are all set. The URL must be exactly the one Twilio calls (signatures).
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_number: str | None = None
    twilio_webhook_url: str | None = None
    twilio_api_url: str | None = None  # default Twilio's own; tests point it at a fake
    # Telegram (bot/channels/telegram.py): off unless the token and the webhook secret are set.
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_webhook_url: str | None = None  # the public URL `set-webhook` registers by default
    telegram_api_url: str | None = None  # default Telegram's own (https://api.telegram.org/bot)
    # Production shape (bot/cluster.py, docs/deployment.md). Rasa's lock store: in memory unless
    # set; with more than one Rasa server it must be Redis (redis://[:password@]host:port/db).
    lock_store_url: str | None = None
    # `make run-prod`: this many Rasa servers on ports from rasa_instance_port up, behind
    # nginx on webchat_port (WEBCHAT_PORT).
    rasa_instances: int = 2
    rasa_instance_port: int = 5006
    # Abuse limits on every public channel (bot/channels/limits.py): messages a sender may send
    # per minute, and the longest message read (longer ones get a kind reply, not a cut).
    message_rate_limit: int = 20
    max_message_chars: int = 2000
    # Security (docs/security.md). Secrets unset here are generated once into var/ (bot.secrets):
    # the web chat's id-signing key, and the key the action server requires from Rasa.
    webchat_secret: str | None = None
    action_server_secret: str | None = None
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks);
    # empty: the direct peer is the client (bot.net.client_address).
    trusted_proxies: str = ""
    # Where Rasa (and make run-prod's nginx) and the action server listen: localhost unless
    # set (containers set 0.0.0.0 on their internal network). A token never opens them up.
    rasa_interface: str = "127.0.0.1"
    actions_interface: str = "127.0.0.1"
    # Origins allowed to call Rasa from a browser (CORS): the web chat page's own, comma-separated;
    # "*" is refused. Empty: http://localhost:$WEBCHAT_PORT (and 127.0.0.1).
    cors_origins: str = ""
    # Channel limits besides the per-conversation MESSAGE_RATE_LIMIT (bot/channels/limits.py),
    # each a count a sliding minute: messages from one client address (IPv6 grouped by /64;
    # web chat only: SMS and Telegram come from the provider's addresses), messages from
    # everyone together, web chat ids issued to one address, polls of one conversation and
    # polls from one address.
    address_rate_limit: int = 120
    global_rate_limit: int = 3000
    session_rate_limit: int = 20
    poll_rate_limit: int = 60
    address_poll_rate_limit: int = 1200
    # SMS: seconds a turn may take before the person gets the kind apology instead.
    sms_turn_timeout: int = 60
    # Staff console (docs/console.md): sessions end after this many minutes without a page
    # being opened (and after 12 hours whatever); cookies are marked Secure whenever a request
    # came over https, and always when this is on (containers set it); the key signing the
    # "known browser" cookie (generated into var/ when unset).
    console_idle_minutes: int = 30
    console_secure_cookies: bool = False
    console_secret: str | None = None
    # Our database (bot/db.py): seconds to wait for a connection, and the longest a statement may
    # run (PostgreSQL statement_timeout; SQLite: how long to wait for a lock). 0: no limit.
    db_connect_timeout: int = 5
    db_statement_timeout: int = 10
    # Live chat (bot.handoff.sweep): an unclaimed live chat is handed back to the assistant,
    # with the offer of a call back, after this many minutes (at once when nobody is on shift).
    live_chat_wait_minutes: int = 10
    # Risk first (bot.referrals.priority): target minutes to a first response per priority; the queue shows breaches.
    target_minutes_urgent: int = 15
    target_minutes_high: int = 60
    target_minutes_normal: int = 1440
    # Erasure without Rasa's lock (the in-memory lock store): the request stays pending until a
    # pass this many minutes after the erasure finds nothing written back (bot.erasure).
    erasure_verify_minutes: int = 15
    # The directory (bot.directory.listing): an entry is due a check when unchecked or last checked this many months ago.
    directory_check_months: int = 12
    # The directory as an Open Referral UK (HSDS 3.0) read API (bot.directory_api): its own
    # process on this port and interface (localhost unless set), and the public base URL it is
    # reached at (behind nginx: https://example.org/openreferral), used in the links it gives;
    # empty: http://localhost:<port>.
    directory_api_port: int = 8082
    directory_api_interface: str = "127.0.0.1"
    directory_api_url: str = ""
    # WhatsApp through Twilio (bot/channels/twilio.py): the WhatsApp sender ("whatsapp:+44...";
    # off unless set, with the SMS settings' SID, token and webhook URL), and the approved
    # template (a Content SID, "HX...") used to reopen a conversation after WhatsApp's 24-hour
    # window; without one, a reply after the window is refused with a reason.
    twilio_whatsapp_number: str | None = None
    twilio_whatsapp_template_sid: str | None = None

    @classmethod
    def from_env(cls) -> "Settings":
        var_dir = Path(os.environ.get("FC_VAR_DIR", ROOT / "var"))
        return cls(
            rasa_port=_int("RASA_PORT", 5005),
            actions_port=_int("ACTIONS_PORT", 5055),
            webchat_port=_int("WEBCHAT_PORT", 8080),
            rasa_auth_token=os.environ.get("RASA_AUTH_TOKEN") or None,
            model_path=Path(os.environ.get("RASA_MODEL", ROOT / "models" / "current.tar.gz")),
            var_dir=var_dir,
            database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'families_connect.db'}",
            tracker_store_url=os.environ.get("TRACKER_STORE_URL") or f"sqlite:///{var_dir / 'rasa_tracker.db'}",
            console_port=_int("CONSOLE_PORT", 8081),
            rasa_url=os.environ.get("RASA_URL") or f"http://localhost:{_int('RASA_PORT', 5005)}",
            conversation_retention_days=_int("CONVERSATION_RETENTION_DAYS", 90),
            case_retention_days=_int("CASE_RETENTION_DAYS", 90),
            shift_hours=_int("SHIFT_HOURS", 8),
            twilio_account_sid=os.environ.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=os.environ.get("TWILIO_AUTH_TOKEN") or None,
            twilio_number=os.environ.get("TWILIO_NUMBER") or None,
            twilio_webhook_url=os.environ.get("TWILIO_WEBHOOK_URL") or None,
            twilio_api_url=os.environ.get("TWILIO_API_URL") or None,
            telegram_bot_token=os.environ.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET") or None,
            telegram_webhook_url=os.environ.get("TELEGRAM_WEBHOOK_URL") or None,
            telegram_api_url=os.environ.get("TELEGRAM_API_URL") or None,
            lock_store_url=os.environ.get("LOCK_STORE_URL") or None,
            rasa_instances=_int("RASA_INSTANCES", 2),
            rasa_instance_port=_int("RASA_INSTANCE_PORT", 5006),
            message_rate_limit=_int("MESSAGE_RATE_LIMIT", 20),
            max_message_chars=_int("MAX_MESSAGE_CHARS", 2000),
            webchat_secret=os.environ.get("WEBCHAT_SECRET") or None,
            action_server_secret=os.environ.get("ACTION_SERVER_SECRET") or None,
            trusted_proxies=os.environ.get("TRUSTED_PROXIES", ""),
            rasa_interface=os.environ.get("RASA_INTERFACE") or "127.0.0.1",
            actions_interface=os.environ.get("ACTIONS_INTERFACE") or "127.0.0.1",
            cors_origins=os.environ.get("CORS_ORIGINS", ""),
            address_rate_limit=_int("ADDRESS_RATE_LIMIT", 120),
            global_rate_limit=_int("GLOBAL_RATE_LIMIT", 3000),
            session_rate_limit=_int("SESSION_RATE_LIMIT", 20),
            poll_rate_limit=_int("POLL_RATE_LIMIT", 60),
            address_poll_rate_limit=_int("ADDRESS_POLL_RATE_LIMIT", 1200),
            sms_turn_timeout=_int("SMS_TURN_TIMEOUT", 60),
            console_idle_minutes=_int("CONSOLE_IDLE_MINUTES", 30),
            console_secure_cookies=os.environ.get("CONSOLE_SECURE_COOKIES", "").strip().lower() in ("1", "true", "yes", "on"),
            console_secret=os.environ.get("CONSOLE_SECRET") or None,
            db_connect_timeout=_int("DB_CONNECT_TIMEOUT", 5),
            db_statement_timeout=_int("DB_STATEMENT_TIMEOUT", 10),
            live_chat_wait_minutes=_int("LIVE_CHAT_WAIT_MINUTES", 10),
            target_minutes_urgent=_int("TARGET_MINUTES_URGENT", 15),
            target_minutes_high=_int("TARGET_MINUTES_HIGH", 60),
            target_minutes_normal=_int("TARGET_MINUTES_NORMAL", 1440),
            erasure_verify_minutes=_int("ERASURE_VERIFY_MINUTES", 15),
            directory_check_months=_int("DIRECTORY_CHECK_MONTHS", 12),
            directory_api_port=_int("DIRECTORY_API_PORT", 8082),
            directory_api_interface=os.environ.get("DIRECTORY_API_INTERFACE") or "127.0.0.1",
            directory_api_url=(os.environ.get("DIRECTORY_API_URL") or "").rstrip("/"),
            twilio_whatsapp_number=os.environ.get("TWILIO_WHATSAPP_NUMBER") or None,
            twilio_whatsapp_template_sid=os.environ.get("TWILIO_WHATSAPP_TEMPLATE_SID") or None,
        )

    def secret(self, name: str) -> str:
        """A shared secret by name ("webchat", "action_server", "rasa_api", "console"): the
        setting when set, else the one generated into var/ for this install."""
        from bot.secrets import local_secret

        given = {"webchat": self.webchat_secret, "action_server": self.action_server_secret, "rasa_api": self.rasa_auth_token,
                 "console": self.console_secret}
        if name not in given:
            raise KeyError(name)
        return local_secret(self.var_dir, name, given[name])

    def rasa_url_list(self) -> list[str]:
        """The Rasa servers RASA_URL names, in order (one or more, comma-separated)."""
        return [u.strip().rstrip("/") for u in self.rasa_url.split(",") if u.strip()]

    def cors_origin_list(self) -> list[str]:
        """The origins Rasa answers cross-origin requests from; never "*" (refused with an error)."""
        origins = [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]
        if not origins:
            origins = [f"http://localhost:{self.webchat_port}", f"http://127.0.0.1:{self.webchat_port}"]
        if any("*" in o for o in origins):
            raise ValueError("CORS_ORIGINS must name the web chat page's origin(s), never '*'")
        return origins
