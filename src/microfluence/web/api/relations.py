"""/api/v1/creators/{id}/relationship and /api/v1/relationships: the relationship record kept on
a creator (contact details, tags, rating, do-not-contact, partner and perks), their deals with
spend and results, erasure and the contact audit log (relationships.records, .partners,
.history, .privacy, .audit). Viewers read (a read of contact details is logged), members change,
owners lift do-not-contact, erase and read the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from microfluence.catalog.creators import find_creator
from microfluence.catalog.listing import Window
from microfluence.kernel.store.tables import Workspace
from microfluence.relationships import records
from microfluence.relationships.audit import AuditPage, actor_of, audit_log
from microfluence.relationships.contact import lift_do_not_contact
from microfluence.relationships.history import DealHistory, deals_with_results
from microfluence.relationships.partners import set_partner
from microfluence.relationships.privacy import ErasureReport, erase_creator
from microfluence.relationships.records import RecordPage, RelationRecord
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, _window
from microfluence.web.deps import ApiOwner, ApiReader, ApiWriter, DbSession

router = APIRouter(tags=["relationships"])
CreatorId = Annotated[int, Path(ge=1, le=2**31 - 1)]
BASE = "/creators/{creator_id}/relationship"
Text = Annotated[str | None, Field(max_length=20_000)]
Short = Annotated[str | None, Field(max_length=400)]


class Relationship(BaseModel):
    record: RelationRecord
    history: DealHistory


class RecordChange(BaseModel):
    """The fields sent are changed; ``null`` clears one."""

    model_config = ConfigDict(extra="forbid")
    email: Short = None
    phone: Short = None
    address: dict[str, Short] | None = Field(
        default=None, description="name, line1, line2, city, region, postal_code, country"
    )
    notes: Text = None
    tags: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=100)
    rating: int | None = Field(default=None, description="1 to 5")


class TagChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    add: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=100)
    remove: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=100)


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=400)]


class NewCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Annotated[str, Field(max_length=20)] = "percent"
    value: Annotated[str | float | None, Field(description="15 = 15 % or 15.00 off")] = None
    code: Annotated[str | None, Field(max_length=64)] = None


class PartnerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: bool = True
    since: Annotated[str | None, Field(max_length=40, description="YYYY-MM-DD")] = None
    code: Annotated[str | None, Field(max_length=64)] = Field(
        default=None, description="One of the creator's discount codes."
    )
    new_code: NewCode | None = Field(default=None, description="Make a code for the creator.")
    early_access: bool | None = None
    note: Annotated[str | None, Field(max_length=4000)] = None


def _workspace(db: DbSession, caller: ApiReader) -> Workspace:
    return db.get_one(Workspace, caller.workspace_id)


@router.get("/relationships", responses=READ_ERRORS)
def list_relationships(
    db: DbSession,
    caller: ApiReader,
    window: Annotated[Window, Depends(_window)],
    tag: Annotated[list[str] | None, Query(max_length=20, description="Has every tag.")] = None,
    partner: bool | None = None,
    do_not_contact: bool | None = None,
    min_rating: Annotated[int | None, Query(ge=1, le=5)] = None,
) -> RecordPage:
    """Creators with a relationship record, filtered by tags (normalised, all of them),
    partner status, do-not-contact and rating. No contact details: not logged."""
    return records.list_records(
        db,
        caller.workspace_id,
        tags=[t[:100] for t in tag or []],
        partner=partner,
        do_not_contact=do_not_contact,
        min_rating=min_rating,
        window=window,
    )


@router.get(BASE, responses=ITEM_ERRORS)
def get_relationship(db: DbSession, caller: ApiReader, creator_id: CreatorId) -> Relationship:
    """The record with its contact details (the read is logged in the contact audit log) and
    the creator's deals across campaigns with spend and results."""
    record = records.get_record(db, caller.workspace_id, creator_id, actor_of(db, caller, "api"))
    history = deals_with_results(db, _workspace(db, caller), creator_id)
    return Relationship(record=record, history=history)


@router.patch(BASE, responses=WRITE_ERRORS)
def change_relationship(
    db: DbSession, caller: ApiWriter, creator_id: CreatorId, body: RecordChange
) -> RelationRecord:
    """Change contact details, notes, tags or rating; all checked before any is written."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    actor = actor_of(db, caller, "api")
    return records.update_record(db, caller.workspace_id, creator_id, changes, actor)


@router.post(f"{BASE}/tags", responses=WRITE_ERRORS)
def tag_relationship(
    db: DbSession, caller: ApiWriter, creator_id: CreatorId, body: TagChange
) -> RelationRecord:
    """Add and remove tags (``#Summer Gifting`` is stored as ``summer-gifting``)."""
    actor = actor_of(db, caller, "api")
    return records.tag_creator(
        db, caller.workspace_id, creator_id, actor, add=body.add, remove=body.remove
    )


@router.post(f"{BASE}/do-not-contact", responses=WRITE_ERRORS)
def mark_do_not_contact(
    db: DbSession, caller: ApiWriter, creator_id: CreatorId, body: Reason
) -> RelationRecord:
    """Mark the creator do-not-contact, with the reason; every sending face honours it."""
    actor = actor_of(db, caller, "api")
    return records.mark_do_not_contact(db, caller.workspace_id, creator_id, body.reason, actor)


@router.post(f"{BASE}/do-not-contact/lift", responses=WRITE_ERRORS)
def lift(db: DbSession, caller: ApiOwner, creator_id: CreatorId, body: Reason) -> RelationRecord:
    """Let the creator be contacted again. Owners only, with a reason; never after erasure."""
    actor = actor_of(db, caller, "api")
    lift_do_not_contact(
        db, caller.workspace_id, creator_id, reason=body.reason, role=caller.role, actor=actor
    )
    return records.record_view(db, caller.workspace_id, creator_id)


@router.put(f"{BASE}/partner", responses=WRITE_ERRORS)
def partner(
    db: DbSession, caller: ApiWriter, creator_id: CreatorId, body: PartnerChange
) -> RelationRecord:
    """Long-term partner status and its perks: an exclusive code (picked or made), early
    access, free-text perks. ``partner: false`` ends it (the perks stay on the record)."""
    return set_partner(
        db,
        caller.workspace_id,
        creator_id,
        actor_of(db, caller, "api"),
        partner=body.partner,
        since=body.since,
        code=body.code,
        new_code=body.new_code.model_dump() if body.new_code else None,
        early_access=body.early_access,
        note=body.note,
    )


@router.post(f"{BASE}/erase", responses=WRITE_ERRORS)
def erase(db: DbSession, caller: ApiOwner, creator_id: CreatorId, body: Reason) -> ErasureReport:
    """Erase the creator's personal data on request, in one transaction: deals and KPIs are
    kept, anonymised; the creator stays do-not-contact. Owners only."""
    actor = actor_of(db, caller, "api")
    return erase_creator(db, caller.workspace_id, creator_id, actor, reason=body.reason)


@router.get(f"{BASE}/audit", responses=ITEM_ERRORS)
def creator_audit(
    db: DbSession,
    caller: ApiOwner,
    creator_id: CreatorId,
    window: Annotated[Window, Depends(_window)],
) -> AuditPage:
    """Who viewed or changed this creator's contact data, newest first. Owners only."""
    find_creator(db, caller.workspace_id, creator_id)  # 404 for another workspace's
    return audit_log(db, caller.workspace_id, creator_id=creator_id, window=window)


@router.get("/contact-audit", responses=READ_ERRORS)
def workspace_audit(
    db: DbSession,
    caller: ApiOwner,
    window: Annotated[Window, Depends(_window)],
    action: Annotated[str | None, Query(max_length=30)] = None,
) -> AuditPage:
    """The workspace's contact audit log, newest first (``action``: view, change, export,
    erase, lift_do_not_contact). Owners only."""
    return audit_log(db, caller.workspace_id, action=action, window=window)
