"""Keeping what the directory API publishes current, whoever writes the directory through the ORM
(an import, the seed, the console's editor): a service's `modified_at` moves when anything
published about it really changes (itself, its organisation, phones, areas, needs, eligibility
or locations), its `offered` flag follows its state and status, and a location's coordinates
follow its postcode. (A bulk UPDATE bypasses these; nothing of ours writes the directory so.)"""
from __future__ import annotations

import itertools
from typing import Iterable

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.directory.models import OFFERED_STATES, Eligibility, Location, Organization, Phone, Service, ServiceArea, ServiceAtLocation, utc_now
from bot.geo import gazetteer


def _services_of(obj: object) -> Iterable[Service]:
    """The services whose published record includes `obj`."""
    if isinstance(obj, Service):
        return [obj]
    if isinstance(obj, (ServiceArea, Eligibility, ServiceAtLocation)):
        return [obj.service] if obj.service is not None else []
    if isinstance(obj, Phone):
        if obj.service is not None:
            return [obj.service]
        return list(obj.organization.services) if obj.organization is not None else []
    if isinstance(obj, Organization):
        return list(obj.services)
    if isinstance(obj, Location):
        return [link.service for link in obj.services if link.service is not None]
    return []


@event.listens_for(Session, "before_flush")
def _touch_services(session: Session, flush_context: object, instances: object) -> None:
    """Stamp every service something published about changed in this flush."""
    touched: dict[int, Service] = {}
    for obj in itertools.chain(session.new, session.dirty):
        if isinstance(obj, Service):
            obj.offered = obj.state in OFFERED_STATES and obj.status == "active"
    with session.no_autoflush:
        for obj in itertools.chain(session.new, session.dirty, session.deleted):
            if obj in session.dirty and not session.is_modified(obj):
                continue  # assigned the value it had: nothing changed
            for service in _services_of(obj):
                touched[id(service)] = service
    now = utc_now()
    created = session.info.get(_CREATED, ())
    for service in touched.values():
        # A service new in this transaction keeps the time it was given (an import's
        # last_modified) or gets now on insert, however many flushes its rows take.
        if service not in session.deleted and service not in session.new and service not in created:
            service.modified_at = now


_CREATED = "directory_services_created"


@event.listens_for(Session, "after_flush")
def _remember_created(session: Session, flush_context: object) -> None:
    """The services this flush inserted (session.new still lists them here)."""
    new = [obj for obj in session.new if isinstance(obj, Service)]
    if new:
        session.info.setdefault(_CREATED, set()).update(new)


@event.listens_for(Session, "after_transaction_end")
def _forget_created(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_CREATED, None)


@event.listens_for(Location.postcode, "set")
def _locate(location: Location, value: str | None, old: object, initiator: object) -> None:
    """A location's coordinates: the centre of its postcode's district (None when unknown)."""
    if value == old:
        return
    district = gazetteer().find_district(value) if value else None
    location.latitude = district.lat if district is not None else None
    location.longitude = district.long if district is not None else None
