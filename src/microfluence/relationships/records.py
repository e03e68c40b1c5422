"""The relationship record kept on a creator across campaigns: contact details (the e-mail
address and notes on ``creators``, phone and postal address on ``creator_relations``, the
handles and addresses of their accounts), tags, a rating from 1 to 5, do-not-contact, and
long-term partner status with its perks (docs/relationships.md, "Relationship record").

Reading a record that shows contact details logs a view in the contact audit log; every change
logs the names of the fields it touched, never their values (relationships.audit).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import polars as pl
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.catalog.accounts import find_account_by_reference
from microfluence.catalog.creators import find_creator, update_creator
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import CreatorPublic, CreatorUpdate, UtcDateTime
from microfluence.kernel.errors import ConflictError, InputError
from microfluence.kernel.store.tables import Account, Creator, utcnow
from microfluence.relationships.audit import Actor, log
from microfluence.relationships.contact import relation_of, set_do_not_contact
from microfluence.relationships.tables import CreatorRelation
from microfluence.relationships.tombstones import flag_returning

CONTACT_FIELDS = ("email", "phone", "address", "notes")
RECORD_FIELDS = (*CONTACT_FIELDS, "tags", "rating")
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country")
TAG_MAX, TAGS_MAX = 40, 50
NOTES_MAX = 20_000
_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)
_PHONE = re.compile(r"^\+?[0-9 ().\-/]{5,40}$")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


# --- values ---------------------------------------------------------------------------------


def _text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError("expected text", field=field, value=value)
    text = value.strip()
    if len(text) > limit:
        raise InputError(f"at most {limit} characters", field=field)
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InputError("control characters are not allowed", field=field)
    return text or None


def parse_email(value: Any, field: str = "email") -> str | None:
    """An e-mail address (domain in lower case), or None to clear; InputError naming the field."""
    text = _text(value, field, 320)
    if text is None:
        return None
    if not _EMAIL.match(text) or len(text) > 254:
        raise InputError(f"not an e-mail address: {text[:80]!r}", field=field)
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def parse_phone(value: Any, field: str = "phone") -> str | None:
    """A phone number as written (digits, spaces, + ( ) . - /), at least 5 digits; None clears."""
    text = _text(value, field, 40)
    if text is None:
        return None
    if not _PHONE.match(text) or sum(c.isdigit() for c in text) < 5 or "+" in text[1:]:
        raise InputError(f"not a phone number: {text!r}", field=field)
    return text


def parse_rating(value: Any, field: str = "rating") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InputError("a rating is a whole number from 1 to 5", field=field, value=value)
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 5:
        raise InputError(f"a rating is a whole number from 1 to 5, not {text[:20]!r}", field=field)
    return int(text)


def normalise_tag(value: Any, field: str = "tags") -> str:
    """``#Summer Gifting`` -> ``summer-gifting``: lower case, spaces as hyphens, no leading #."""
    if not isinstance(value, str):
        raise InputError("a tag is text", field=field, value=value)
    tag = re.sub(r"[\s]+", "-", value.strip().lstrip("#").strip().lower())
    if not tag:
        raise InputError("a tag cannot be empty", field=field)
    if len(tag) > TAG_MAX or not _TAG.match(tag):
        raise InputError(
            f"a tag is 1 to {TAG_MAX} letters, digits, - or _, not {value[:60]!r}", field=field
        )
    return tag


def parse_tags(values: Any, field: str = "tags") -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    if not isinstance(values, list | tuple):
        raise InputError("tags are a list of text", field=field, value=values)
    tags = sorted({normalise_tag(v, f"{field}[{i}]") for i, v in enumerate(values)})
    if len(tags) > TAGS_MAX:
        raise InputError(f"at most {TAGS_MAX} tags", field=field)
    return tags


def parse_address(value: Any, field: str = "address") -> dict[str, str]:
    """A postal address: any of ADDRESS_FIELDS as text; an empty one clears it."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"an address has the fields {', '.join(ADDRESS_FIELDS)}", field=field)
    unknown = sorted(set(value) - set(ADDRESS_FIELDS))
    if unknown:
        raise InputError(
            f"unknown address field; use {', '.join(ADDRESS_FIELDS)}", field=f"{field}.{unknown[0]}"
        )
    parsed = {k: _text(value[k], f"{field}.{k}", 200) for k in ADDRESS_FIELDS if k in value}
    return {k: v for k, v in parsed.items() if v}


PARSERS = {
    "email": parse_email,
    "phone": parse_phone,
    "address": parse_address,
    "notes": lambda v, field="notes": _text(v, field, NOTES_MAX),
    "tags": parse_tags,
    "rating": parse_rating,
}


# --- the record -----------------------------------------------------------------------------


class AccountContact(BaseModel):
    id: int
    platform: str
    handle: str
    url: str | None
    email: str | None


class Perks(BaseModel):
    code_id: int | None = None
    code: str | None = None
    early_access: bool = False
    note: str | None = None


class RelationRecord(BaseModel):
    creator_id: int
    name: str | None
    email: str | None
    phone: str | None
    address: dict[str, str]
    notes: str | None
    accounts: list[AccountContact]
    tags: list[str]
    rating: int | None
    do_not_contact: bool
    do_not_contact_at: UtcDateTime | None
    do_not_contact_reason: str | None
    partner: bool
    partner_since: dt.date | None
    perks: Perks
    erased_at: UtcDateTime | None
    updated_at: UtcDateTime | None


def _record(session: Session, workspace_id: int, relation: CreatorRelation) -> RelationRecord:
    creator = session.scalar(
        select(Creator).where(
            Creator.workspace_id == workspace_id, Creator.id == relation.creator_id
        )
    )
    assert creator is not None
    accounts = session.scalars(
        select(Account)
        .where(Account.workspace_id == workspace_id, Account.creator_id == creator.id)
        .order_by(Account.platform, Account.handle)
    )
    return RelationRecord(
        creator_id=creator.id,
        name=creator.name,
        email=creator.email,
        phone=relation.phone,
        address=dict(relation.address or {}),
        notes=creator.notes,
        accounts=[AccountContact.model_validate(a, from_attributes=True) for a in accounts],
        tags=list(relation.tags or []),
        rating=relation.rating,
        do_not_contact=relation.do_not_contact,
        do_not_contact_at=relation.do_not_contact_at,
        do_not_contact_reason=relation.do_not_contact_reason,
        partner=relation.partner,
        partner_since=relation.partner_since,
        perks=Perks.model_validate(relation.perks or {}),
        erased_at=relation.erased_at,
        updated_at=relation.updated_at,
    )


def get_record(
    session: Session, workspace_id: int, creator_id: int, actor: Actor
) -> RelationRecord:
    """The creator's record (NotFoundError for another workspace's); logs a view. Creators
    imported again after an erasure are flagged first (relationships.tombstones)."""
    flag_returning(session, workspace_id)
    relation = relation_of(session, workspace_id, creator_id)
    log(session, workspace_id, creator_id, actor, "view", ["record"])
    return _record(session, workspace_id, relation)


def _not_erased(relation: CreatorRelation) -> None:
    if relation.erased_at is not None:
        raise ConflictError(
            f"creator {relation.creator_id} was erased on request: the record cannot be changed"
        )


def update_record(
    session: Session,
    workspace_id: int,
    creator_id: int,
    changes: Mapping[str, Any],
    actor: Actor,
) -> RelationRecord:
    """Change the fields given (``email``, ``phone``, ``address``, ``notes``, ``tags``,
    ``rating``; None clears one). Every value is checked before anything is written; the audit
    log gets the names of the fields that changed."""
    unknown = sorted(set(changes) - set(PARSERS))
    if unknown:
        raise InputError(f"unknown field; use {', '.join(PARSERS)}", field=unknown[0])
    parsed = {name: PARSERS[name](value) for name, value in changes.items()}
    relation = relation_of(session, workspace_id, creator_id)
    _not_erased(relation)
    creator = session.get(Creator, creator_id)
    assert creator is not None
    changed = []
    for name, value in parsed.items():
        target: Any = creator if name in ("email", "notes") else relation
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed.append(name)
    if changed:
        now = utcnow()
        relation.updated_at = now
        if {"email", "notes"} & set(changed):
            creator.updated_at = now
        log(session, workspace_id, creator_id, actor, "change", changed)
    session.flush()
    return _record(session, workspace_id, relation)


def tag_creator(
    session: Session,
    workspace_id: int,
    creator_id: int,
    actor: Actor,
    *,
    add: Any = (),
    remove: Any = (),
) -> RelationRecord:
    """Add and remove tags (normalised: ``#Summer Gifting`` is ``summer-gifting``)."""
    adding = parse_tags(list(add), "add")
    removing = parse_tags(list(remove), "remove")
    relation = relation_of(session, workspace_id, creator_id)
    tags = sorted((set(relation.tags or []) | set(adding)) - set(removing))
    return update_record(session, workspace_id, creator_id, {"tags": tags}, actor)


def mark_do_not_contact(
    session: Session, workspace_id: int, creator_id: int, reason: str, actor: Actor
) -> RelationRecord:
    """Set do-not-contact (members may); the first time and reason are kept."""
    why = _text(reason, "reason", 200)
    if why is None:
        raise InputError("say why the creator must not be contacted", field="reason")
    relation = relation_of(session, workspace_id, creator_id)
    if not relation.do_not_contact:
        set_do_not_contact(session, workspace_id, creator_id, reason=why)
        log(session, workspace_id, creator_id, actor, "change", ["do_not_contact"], reason=why)
    return _record(session, workspace_id, relation)


def record_view(session: Session, workspace_id: int, creator_id: int) -> RelationRecord:
    """The record without logging a view: for the answer to a change (the caller just wrote
    it) — never for showing contact data on its own."""
    return _record(session, workspace_id, relation_of(session, workspace_id, creator_id))


# --- lists ----------------------------------------------------------------------------------


class RecordSummary(BaseModel):
    """A record in a list: no contact details, so listing logs nothing."""

    creator_id: int
    name: str | None
    tags: list[str]
    rating: int | None
    do_not_contact: bool
    partner: bool
    erased: bool


class RecordPage(BaseModel):
    data: list[RecordSummary]
    count: int


def list_records(  # noqa: PLR0913 - one keyword per filter
    session: Session,
    workspace_id: int,
    *,
    tags: Any = (),
    partner: bool | None = None,
    do_not_contact: bool | None = None,
    min_rating: int | None = None,
    window: Window | None = None,
) -> RecordPage:
    """The workspace's records having every tag of ``tags`` (normalised), filtered by partner
    status, do-not-contact and rating; by name."""
    wanted = parse_tags(list(tags), "tag")
    minimum = parse_rating(min_rating, "min_rating")
    flag_returning(session, workspace_id)
    window = window or Window()
    query = (
        select(
            CreatorRelation.creator_id,
            Creator.name,
            CreatorRelation.tags,
            CreatorRelation.rating,
            CreatorRelation.do_not_contact,
            CreatorRelation.partner,
            CreatorRelation.erased_at.is_not(None),
        )
        .join(Creator, Creator.id == CreatorRelation.creator_id)
        .where(CreatorRelation.workspace_id == workspace_id, Creator.workspace_id == workspace_id)
    )
    if partner is not None:
        query = query.where(CreatorRelation.partner.is_(partner))
    if do_not_contact is not None:
        query = query.where(CreatorRelation.do_not_contact.is_(do_not_contact))
    if minimum is not None:
        query = query.where(CreatorRelation.rating >= minimum)
    schema = {
        "creator_id": pl.Int64,
        "name": pl.String,
        "tags": pl.List(pl.String),
        "rating": pl.Int64,
        "do_not_contact": pl.Boolean,
        "partner": pl.Boolean,
        "erased": pl.Boolean,
    }
    rows = [tuple(r[:2]) + (list(r[2] or []),) + tuple(r[3:]) for r in session.execute(query)]
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    for tag in wanted:
        frame = frame.filter(pl.col("tags").list.contains(tag))
    frame = frame.sort(pl.col("name").str.to_lowercase(), "creator_id", nulls_last=True)
    page = frame.slice(window.offset, window.limit)
    return RecordPage(
        data=[RecordSummary.model_validate(r) for r in page.to_dicts()], count=frame.height
    )


def creator_id_of(session: Session, workspace_id: int, reference: str | int) -> int:
    """A creator named by id, or by ``PLATFORM:HANDLE`` of one of their accounts (the command
    line's and the library's way); NotFoundError otherwise."""
    text = str(reference).strip()
    if text.isascii() and text.isdigit():
        return find_creator(session, workspace_id, int(text)).id
    return find_account_by_reference(session, workspace_id, text).creator_id


CATALOG_CONTACT = ("name", "email", "notes")


def update_creator_logged(
    session: Session, workspace_id: int, creator_id: int, data: CreatorUpdate, actor: Actor
) -> CreatorPublic:
    """The catalogue's change of a creator (``PATCH /api/v1/creators/{id}``), with the contact
    fields it touched (name, e-mail, notes) logged in the contact audit log, names only."""
    sent = set(data.model_dump(exclude_unset=True))
    erased = session.scalar(
        select(CreatorRelation.erased_at).where(
            CreatorRelation.workspace_id == workspace_id, CreatorRelation.creator_id == creator_id
        )
    )
    if erased is not None and sent & set(CATALOG_CONTACT):
        raise ConflictError(
            f"creator {creator_id} was erased on request: the record cannot be changed"
        )
    before = session.get(Creator, creator_id)
    old = {f: getattr(before, f) for f in CATALOG_CONTACT} if before is not None else {}
    result = update_creator(session, workspace_id, creator_id, data)
    changed = [f for f in CATALOG_CONTACT if f in sent and getattr(result, f) != old.get(f)]
    if changed:
        log(session, workspace_id, creator_id, actor, "change", changed)
    return result
