"""Saved replies: a library of short replies admins keep (title, text, tags) and workers find
while typing in a live chat, then edit before sending (table saved_reply).

A reply's text may hold one placeholder, `{worker}`, filled with the worker's display name when
it is put into their reply (`fill`). Retiring a reply keeps it, inactive, so the audit log
("saved reply 7 retired") still points at something. Changes are audited by id and which
fields changed, never the words: the audit log's detail never holds what anyone typed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.staff import audit
from bot.staff.models import SavedReply

MAX_TITLE_CHARS = 120
# A live reply may be 2,000 characters (bot.handoff.MAX_REPLY_CHARS); a saved one is kept to
# half that, so that with {worker} filled in and a few words added it still fits.
MAX_TEXT_CHARS = 1000
MAX_TAGS = 10
MAX_TAG_CHARS = 40
PLACEHOLDER = "{worker}"
# The longest search looked at, and the most words of it used.
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
# How much a word found in a tag, the title or the text counts towards a match's rank.
TAG_WEIGHT, TITLE_WEIGHT, TEXT_WEIGHT = 3, 2, 1
_BRACED = re.compile(r"\{[^{}]*\}")


class ReplyError(ValueError):
    """A reply that cannot be saved: `problems` maps a field (title, text, tags, or "" for the
    reply as a whole) to what is wrong with it, in words for the admin."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class Draft:
    """A reply as typed into the form, cleaned: what is stored when it is valid."""

    title: str
    text: str
    tags: str  # lower-case, comma-separated, no blanks or repeats


def split_tags(raw: str) -> list[str]:
    """Tags as typed ("Visits, Money ,,visits") as a list: trimmed, lower-cased, inner spaces
    made single, blanks and repeats dropped, in the order typed."""
    tags: list[str] = []
    for part in (raw or "").split(","):
        tag = " ".join(part.split()).lower()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def clean(title: str, text: str, tags: str) -> Draft:
    """The form's title, text and tags checked and tidied; ReplyError says what is wrong with each."""
    title = " ".join((title or "").split())
    text = (text or "").replace("\r\n", "\n").strip()
    tag_list = split_tags(tags)
    problems: dict[str, str] = {}
    if not title:
        problems["title"] = "Give the reply a title, so workers can find it."
    elif len(title) > MAX_TITLE_CHARS:
        problems["title"] = f"The title can be at most {MAX_TITLE_CHARS} characters (it has {len(title)})."
    if not text:
        problems["text"] = "Write the reply's text."
    elif len(text) > MAX_TEXT_CHARS:
        problems["text"] = f"The text can be at most {MAX_TEXT_CHARS} characters (it has {len(text)})."
    else:
        unknown = sorted({found for found in _BRACED.findall(text) if found != PLACEHOLDER})
        if unknown:
            problems["text"] = (f"{PLACEHOLDER} (your name) is the only placeholder a reply can hold: "
                                f"take out {', '.join(unknown)}.")
    if len(tag_list) > MAX_TAGS:
        problems["tags"] = f"Use at most {MAX_TAGS} tags (there are {len(tag_list)})."
    elif any(len(tag) > MAX_TAG_CHARS for tag in tag_list):
        problems["tags"] = f"Each tag can be at most {MAX_TAG_CHARS} characters; separate tags with commas."
    if problems:
        raise ReplyError(problems)
    return Draft(title=title, text=text, tags=",".join(tag_list))


def get_reply(reply_id: int, *, session: Session) -> SavedReply:
    """The saved reply with this id; ReplyError if there is none."""
    reply = session.get(SavedReply, reply_id)
    if reply is None:
        raise ReplyError({"": f"There is no saved reply {reply_id}."})
    return reply


def create(title: str, text: str, tags: str, *, user_id: int, session: Session) -> SavedReply:
    """Add a reply to the library (audited); ReplyError when the form is not valid."""
    draft = clean(title, text, tags)
    now = datetime.utcnow()
    reply = SavedReply(title=draft.title, text=draft.text, tags=draft.tags, active=True, created_at=now,
                       updated_at=now, updated_by_id=user_id)
    session.add(reply)
    session.flush()
    audit.record("reply_added", session=session, user_id=user_id, detail=f"saved reply {reply.id}")
    return reply


def update(reply_id: int, title: str, text: str, tags: str, *, user_id: int, session: Session) -> SavedReply:
    """Change a reply still in use (audited with which fields changed); ReplyError when the form
    is not valid or the reply was retired."""
    draft = clean(title, text, tags)
    reply = get_reply(reply_id, session=session)
    if not reply.active:
        raise ReplyError({"": "This reply was retired, so it cannot be changed: add it again as a new reply."})
    changed = [name for name in ("title", "text", "tags") if getattr(reply, name) != getattr(draft, name)]
    if changed:
        reply.title, reply.text, reply.tags = draft.title, draft.text, draft.tags
        reply.updated_at, reply.updated_by_id = datetime.utcnow(), user_id
    detail = f"saved reply {reply.id}; " + (f"changed: {', '.join(changed)}" if changed else "nothing changed")
    audit.record("reply_changed", session=session, user_id=user_id, detail=detail)
    return reply


def retire(reply_id: int, *, user_id: int, session: Session) -> SavedReply:
    """Take a reply out of use (kept, inactive; audited). Retiring it twice changes nothing."""
    reply = get_reply(reply_id, session=session)
    if reply.active:
        reply.active = False
        reply.updated_at, reply.updated_by_id = datetime.utcnow(), user_id
        audit.record("reply_retired", session=session, user_id=user_id, detail=f"saved reply {reply.id}")
    return reply


def list_replies(*, session: Session, retired: bool = False) -> list[SavedReply]:
    """The replies in use (or, with `retired`, the retired ones), by title."""
    query = select(SavedReply).where(SavedReply.active.is_(not retired))
    return list(session.execute(query.order_by(func.lower(SavedReply.title), SavedReply.id)).scalars())


def query_words(query: str) -> list[str]:
    """The words of a search, lower-cased, without repeats (at most MAX_QUERY_WORDS)."""
    words: list[str] = []
    for word in (query or "")[:MAX_QUERY_CHARS].lower().split():
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


def _score(reply: SavedReply, words: list[str]) -> int:
    """How well a reply matches: each word counts by where it is found (a tag beats the title,
    the title beats the text); 0 when a word is found nowhere."""
    tags = reply.tags.lower().split(",") if reply.tags else []
    title, text = reply.title.lower(), reply.text.lower()
    total = 0
    for word in words:
        points = (TAG_WEIGHT if any(word in tag for tag in tags) else 0) + (TITLE_WEIGHT if word in title else 0)
        points += TEXT_WEIGHT if word in text else 0
        if not points:
            return 0
        total += points
    return total


def find(query: str, *, session: Session, limit: int = 8) -> list[SavedReply]:
    """Replies in use whose title, tags or text hold every word of `query` (any case, any
    order, part of a word is enough), best first: tags weigh most, then the title."""
    words = query_words(query)
    if not words:
        return []
    # A library is a few hundred short replies: read them and match here, where lower-casing
    # is the same for every letter (SQLite's lower() folds only A to Z).
    replies = session.execute(select(SavedReply).where(SavedReply.active.is_(True))).scalars()
    ranked = [(score, reply) for reply in replies if (score := _score(reply, words))]
    ranked.sort(key=lambda pair: (-pair[0], pair[1].title.lower(), pair[1].id))
    return [reply for _, reply in ranked[:limit]]


def fill(text: str, worker: str) -> str:
    """A reply's text as the worker will send it: {worker} becomes their display name."""
    return text.replace(PLACEHOLDER, worker)
