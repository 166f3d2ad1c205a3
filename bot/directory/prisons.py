"""What the assistant says about one named prison: its address (the Ministry of Justice
register), its GOV.UK page (booking line, phone, visiting times, Safer Custody) and the
visitors' centre and family services the directory lists there."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.directory import search
from bot.geo import Prison, gazetteer
from bot.geo.pages import FIND_PRISON, gov_uk_page


@dataclass(frozen=True)
class PrisonInfo:
    """One prison as the assistant describes it."""

    id: str
    name: str  # "HMP Durham"
    address: str
    page: str
    own_page: bool  # False: GOV.UK's Find a prison page, where its own page is not known
    services: list[search.Found]


def find(name: str | None) -> Prison | None:
    """The prison a `prison` entity or slot names ('HMP Durham'), if it is in the register."""
    return gazetteer().find_prison(name) if name else None


def page_for(name: str | None) -> str | None:
    """The GOV.UK page of a prison named by its display name, for the `prison_page` slot."""
    prison = find(name)
    return gov_uk_page(prison) if prison else None


def prison_info(prison: Prison, *, session: Session | None) -> PrisonInfo:
    """Address, page and the directory's services at the prison (none without a session)."""
    page = gov_uk_page(prison)
    services = search.services_at_prison(session, prison.id) if session is not None else []
    return PrisonInfo(
        id=prison.id, name=prison.display_name, address=prison.address, page=page,
        own_page=page != FIND_PRISON, services=services,
    )
