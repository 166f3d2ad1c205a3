"""The service directory's tables, shaped on Open Referral UK (HSDS): organisation, service,
location, service_at_location, service_area, phone, taxonomy, eligibility.

Our additions, kept in their own columns so an ORUK export stays clean: the source
document an entry came from (and a quote from it), the prison a location belongs to, and
how fresh an entry is: its `state` (STATES), the date (`last_verified`) and source
(`checked_source`) of its last check, and, when replaced, its `successor_id`. A service area is stored as a key over the geography in
bot/geo ("council:STT", "county:KEN", "region:North East", "nation:England",
"england_and_wales", "uk"), so a query asks for at most six keys, never a list of
every council a national service covers.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

from sqlalchemy import Boolean, Column, false, Date, DateTime, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from bot.db import Base

# How fresh a directory entry is. Only verified and unchecked entries are ever offered; a
# replaced entry's successor is offered in its place.
VERIFIED, UNCHECKED, REPLACED, CLOSED = "verified", "unchecked", "replaced", "closed"
STATES = (VERIFIED, UNCHECKED, REPLACED, CLOSED)
OFFERED_STATES = (VERIFIED, UNCHECKED)

# HSDS 3.0 identifies every record by a UUID. Ours have readable keys ("stockton-kinship"), so each
# record's UUID is derived from its kind and key (the same on every install and after every
# re-import); a key that already is a UUID (another publisher's) is its own.
UUID_NAMESPACE = uuid.UUID("6f1c0c9e-3b7a-5d4e-9a51-0c1f2a7e8b34")


def stable_uuid(kind: str, key: str) -> str:
    """The HSDS id of the record of `kind` ("service", "organization", ...) with our key `key`."""
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return str(uuid.uuid5(UUID_NAMESPACE, f"{kind}:{key}"))


def _uuid_default(kind: str):
    """A column default: the stable UUID of the row's own id."""
    return lambda context: stable_uuid(kind, context.get_current_parameters()["id"])


def utc_now() -> datetime:
    """Now, in UTC without a zone (how DateTime columns store it on SQLite and PostgreSQL alike)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)

service_taxonomy = Table(
    "service_taxonomy",
    Base.metadata,
    Column("service_id", String(120), ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Column("taxonomy_term_id", String(60), ForeignKey("taxonomy_term.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_service_taxonomy_term", "taxonomy_term_id", "service_id"),
)


class SourceDocument(Base):
    """Where entries came from: a seed document or an imported file."""

    __tablename__ = "source_document"
    id = Column(String(120), primary_key=True)
    title = Column(Text, nullable=False)
    published = Column(String(10))  # "2011", "2011-05" or "2011-05-01", as precise as the source
    reference = Column(Text)  # file name or URL


class Organization(Base):
    __tablename__ = "organization"
    id = Column(String(120), primary_key=True)
    uuid = Column(String(36), nullable=False, unique=True, index=True, default=_uuid_default("organization"))
    name = Column(Text, nullable=False)
    description = Column(Text, nullable=False, default="")
    email = Column(Text)
    url = Column(Text)
    services = relationship("Service", back_populates="organization", cascade="all, delete-orphan")
    phones = relationship("Phone", back_populates="organization", cascade="all, delete-orphan")


class Service(Base):
    __tablename__ = "service"
    id = Column(String(120), primary_key=True)
    uuid = Column(String(36), nullable=False, unique=True, index=True, default=_uuid_default("service"))
    # When anything published about the entry last changed (HSDS last_modified; bot.directory.changes keeps it).
    modified_at = Column(DateTime, nullable=False, default=utc_now, index=True)
    # On offer (an offered state and running), kept by bot.directory.changes: the directory API's
    # lists count and page through (offered, id), an index both databases can walk.
    offered = Column(Boolean, nullable=False, default=False, server_default=false())
    organization_id = Column(String(120), ForeignKey("organization.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(Text, nullable=False)
    description = Column(Text, nullable=False, default="")
    url = Column(Text)
    email = Column(Text)
    status = Column(String(20), nullable=False, default="active")
    opening_times = Column(Text)
    source_id = Column(String(120), ForeignKey("source_document.id"), index=True)
    source_quote = Column(Text)
    last_verified = Column(Date)  # the date of the last check, whatever it found
    verified_by = Column(Text)
    state = Column(String(20), nullable=False, default=UNCHECKED, server_default=UNCHECKED, index=True)
    checked_source = Column(Text)  # the URL or document the last check was made against
    # Not a foreign key: a seed file may name a successor listed after it, and a successor
    # deleted later leaves the entry replaced (and still never offered) rather than failing.
    successor_id = Column(String(120), index=True)
    # Who it suits, worked out from `eligibility` when saved, so a search needs no subqueries.
    __table_args__ = (Index("ix_service_offered_id", "offered", "id"),)
    suits_family = Column(Boolean, nullable=False, default=False)
    suits_young_person = Column(Boolean, nullable=False, default=False)
    suits_professional = Column(Boolean, nullable=False, default=False)
    professionals_only = Column(Boolean, nullable=False, default=False)

    organization = relationship("Organization", back_populates="services")
    source = relationship("SourceDocument")
    phones = relationship("Phone", back_populates="service", cascade="all, delete-orphan")
    areas = relationship("ServiceArea", back_populates="service", cascade="all, delete-orphan")
    eligibility = relationship("Eligibility", back_populates="service", cascade="all, delete-orphan")
    taxonomy_terms = relationship("TaxonomyTerm", secondary=service_taxonomy)
    locations = relationship("ServiceAtLocation", back_populates="service", cascade="all, delete-orphan")

    @property
    def phone(self) -> str | None:
        """The service's own number, else its organisation's."""
        phones = self.phones or self.organization.phones
        return phones[0].number if phones else None

    @property
    def as_of(self) -> date | str | None:
        """How recent the entry is: the date staff checked it, else the source's date."""
        return self.last_verified or (self.source.published if self.source else None)


class Location(Base):
    __tablename__ = "location"
    id = Column(String(120), primary_key=True)
    uuid = Column(String(36), nullable=False, unique=True, index=True, default=_uuid_default("location"))
    name = Column(Text, nullable=False)
    description = Column(Text)
    address = Column(Text)
    postcode = Column(String(10))
    council_code = Column(String(10), index=True)
    prison_id = Column(String(10), index=True)  # bot.geo prison register id, when the location is a prison
    # WGS84, for "near this postcode" (the directory API): as imported, else the centre of the
    # postcode's district (bot.directory.changes keeps them with the postcode).
    latitude = Column(Float)
    longitude = Column(Float)
    services = relationship("ServiceAtLocation", back_populates="location", cascade="all, delete-orphan")
    # With the id, a search of a latitude band reads the index alone until a location is near enough.
    __table_args__ = (Index("ix_location_latitude_longitude", "latitude", "longitude", "id"),)


class ServiceAtLocation(Base):
    __tablename__ = "service_at_location"
    id = Column(String(250), primary_key=True)
    uuid = Column(String(36), nullable=False, unique=True, index=True, default=_uuid_default("service_at_location"))
    service_id = Column(String(120), ForeignKey("service.id", ondelete="CASCADE"), nullable=False, index=True)
    location_id = Column(String(120), ForeignKey("location.id", ondelete="CASCADE"), nullable=False, index=True)
    service = relationship("Service", back_populates="locations")
    location = relationship("Location", back_populates="services")
    __table_args__ = (UniqueConstraint("service_id", "location_id"),)


class ServiceArea(Base):
    __tablename__ = "service_area"
    id = Column(Integer, primary_key=True, autoincrement=True)
    service_id = Column(String(120), ForeignKey("service.id", ondelete="CASCADE"), nullable=False)
    area_key = Column(String(80), nullable=False)
    description = Column(Text)  # as the source put it
    service = relationship("Service", back_populates="areas")
    __table_args__ = (
        UniqueConstraint("service_id", "area_key"),
        Index("ix_service_area_key", "area_key", "service_id"),
    )


class Phone(Base):
    __tablename__ = "phone"
    id = Column(Integer, primary_key=True, autoincrement=True)
    service_id = Column(String(120), ForeignKey("service.id", ondelete="CASCADE"), index=True)
    organization_id = Column(String(120), ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    number = Column(String(40), nullable=False)
    description = Column(Text)
    service = relationship("Service", back_populates="phones")
    organization = relationship("Organization", back_populates="phones")


class TaxonomyTerm(Base):
    """A need ("kinship_care") in our vocabulary."""

    __tablename__ = "taxonomy_term"
    id = Column(String(60), primary_key=True)
    uuid = Column(String(36), nullable=False, unique=True, index=True, default=_uuid_default("taxonomy_term"))
    name = Column(Text, nullable=False)
    vocabulary = Column(String(60), nullable=False, default="families-connect-needs")


class Eligibility(Base):
    """Who a service is for ("grandparents_kinship_carers")."""

    __tablename__ = "eligibility"
    id = Column(Integer, primary_key=True, autoincrement=True)
    service_id = Column(String(120), ForeignKey("service.id", ondelete="CASCADE"), nullable=False, index=True)
    eligibility = Column(String(60), nullable=False)
    service = relationship("Service", back_populates="eligibility")
    __table_args__ = (UniqueConstraint("service_id", "eligibility"),)


class StaffEdit(Base):
    """When staff last changed or checked one field of an entry (bot.directory.staff_edits), so a
    later import or seed reload keeps a value staff vouched for after the file's own check date.
    `reported`: a digest of the imported value last reported as a conflict, so a seed reloaded at
    every start reports (and audits) the same conflict once."""

    __tablename__ = "directory_staff_edit"
    id = Column(Integer, primary_key=True, autoincrement=True)
    service_id = Column(String(120), ForeignKey("service.id", ondelete="CASCADE"), nullable=False, index=True)
    field = Column(String(40), nullable=False)
    staff_on = Column(Date, nullable=False)
    reported = Column(String(64))
    __table_args__ = (UniqueConstraint("service_id", "field"),)
