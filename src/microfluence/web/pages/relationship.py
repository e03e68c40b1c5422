"""The relationship page of a creator, ``/creators/{id}/relationship``: the record with its
contact details (a view is logged), the forms that change it, the deals across campaigns with a
chart of ROI per deal, and for owners: lifting do-not-contact, erasure and the audit log. Every
form calls the same services as the API and the command line (relationships.*)."""

from __future__ import annotations

from typing import Annotated

import plotly.graph_objects as go
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from microfluence.access.roles import MANAGE
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import ID_MAX
from microfluence.kernel.store.tables import Workspace
from microfluence.relationships import records
from microfluence.relationships.audit import actor_of, audit_log
from microfluence.relationships.contact import lift_do_not_contact
from microfluence.relationships.history import DealHistory, deals_with_results
from microfluence.relationships.partners import set_partner
from microfluence.relationships.privacy import erase_creator
from microfluence.relationships.records import ADDRESS_FIELDS
from microfluence.relationships.tables import AUDIT_ACTIONS
from microfluence.web.deps import CsrfChecked, DbSession, PageOwner, PageReader, PageWriter
from microfluence.web.pages import charts
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
Short = Annotated[str, Form(max_length=400)]
Long = Annotated[str, Form(max_length=20_000)]
AUDIT_ROWS = 50


def roi_figure(history: DealHistory) -> go.Figure | None:
    """ROI per deal, in deal order; deals without cost have no ROI and no bar."""
    deals = [d for d in history.deals if d.roi is not None]
    if not deals:
        return None
    figure = go.Figure(
        go.Bar(
            x=[f"{d.campaign} (#{d.deal_id})" for d in deals],
            y=[100 * d.roi for d in deals],  # type: ignore[operator]
            marker={"color": [charts.ACCENT if d.roi >= 0 else "#c8553d" for d in deals]},  # type: ignore[operator]
            customdata=[[f"{d.cost:,.2f}", f"{d.net_revenue:,.2f}", d.currency] for d in deals],
            hovertemplate="%{x}: ROI %{y:.0f} % (cost %{customdata[0]}, net revenue "
            "%{customdata[1]} %{customdata[2]})<extra></extra>",
        )
    )
    figure.update_layout(
        title="ROI per deal", yaxis={"title": "ROI", "ticksuffix": " %"}, **charts.LAYOUT
    )
    return figure


def _back(creator_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/creators/{creator_id}/relationship{anchor}", status_code=303)


@router.get("/creators/{creator_id}/relationship")
def relationship_page(
    request: Request, db: DbSession, caller: PageReader, creator_id: Id
) -> HTMLResponse:
    record = records.get_record(db, caller.workspace_id, creator_id, actor_of(db, caller, "page"))
    history = deals_with_results(db, db.get_one(Workspace, caller.workspace_id), creator_id)
    audit = None
    if caller.role.allows(MANAGE):
        window = Window(limit=AUDIT_ROWS)
        audit = audit_log(db, caller.workspace_id, creator_id=creator_id, window=window)
    return render(
        request,
        db,
        "relationship.html",
        title=f"{record.name or f'Creator {creator_id}'} · relationship",
        record=record,
        history=history,
        roi_chart=charts.to_div(roi_figure(history), "roi-per-deal"),
        charts=True,
        audit=audit,
        address_fields=ADDRESS_FIELDS,
    )


@router.post("/creators/{creator_id}/relationship", dependencies=[CsrfChecked])
async def save_record(
    request: Request, db: DbSession, caller: PageWriter, creator_id: Id
) -> RedirectResponse:
    """The record form: every field is sent; an empty one clears it."""
    form = await request.form()

    def text(name: str, limit: int = 400) -> str:
        value = form.get(name)
        return value[:limit] if isinstance(value, str) else ""

    changes = {
        "email": text("email") or None,
        "phone": text("phone") or None,
        "notes": text("notes", 20_000) or None,
        "tags": text("tags", 4000),
        "rating": text("rating") or None,
        "address": {k: text(f"address_{k}") for k in ADDRESS_FIELDS if text(f"address_{k}")},
    }
    actor = actor_of(db, caller, "page")
    records.update_record(db, caller.workspace_id, creator_id, changes, actor)
    return _back(creator_id)


@router.post("/creators/{creator_id}/relationship/do-not-contact", dependencies=[CsrfChecked])
def mark_do_not_contact(
    db: DbSession, caller: PageWriter, creator_id: Id, reason: Short = ""
) -> RedirectResponse:
    actor = actor_of(db, caller, "page")
    records.mark_do_not_contact(db, caller.workspace_id, creator_id, reason, actor)
    return _back(creator_id)


@router.post("/creators/{creator_id}/relationship/lift", dependencies=[CsrfChecked])
def lift(db: DbSession, caller: PageOwner, creator_id: Id, reason: Short = "") -> RedirectResponse:
    actor = actor_of(db, caller, "page")
    lift_do_not_contact(
        db, caller.workspace_id, creator_id, reason=reason, role=caller.role, actor=actor
    )
    return _back(creator_id)


@router.post("/creators/{creator_id}/relationship/partner", dependencies=[CsrfChecked])
def partner(  # noqa: PLR0913 - one parameter per form field
    db: DbSession,
    caller: PageWriter,
    creator_id: Id,
    action: Short = "save",
    since: Short = "",
    code: Short = "",
    new_code_value: Short = "",
    early_access: Short = "",
    note: Long = "",
) -> RedirectResponse:
    """Make or keep the creator a partner with the perks given (``action=end`` ends it). A
    value in "new code" makes a code of that percentage; else a code typed is picked."""
    set_partner(
        db,
        caller.workspace_id,
        creator_id,
        actor_of(db, caller, "page"),
        partner=action != "end",
        since=since or None,
        code=code.strip() or None,
        new_code={"kind": "percent", "value": new_code_value} if new_code_value.strip() else None,
        early_access=bool(early_access) if action != "end" else None,
        note=note if action != "end" else None,
    )
    return _back(creator_id, "#partner")


@router.post("/creators/{creator_id}/relationship/erase", dependencies=[CsrfChecked])
def erase(db: DbSession, caller: PageOwner, creator_id: Id, reason: Short = "") -> RedirectResponse:
    erase_creator(db, caller.workspace_id, creator_id, actor_of(db, caller, "page"), reason=reason)
    return _back(creator_id)


@router.get("/contact-audit")
def contact_audit_page(
    request: Request,
    db: DbSession,
    caller: PageOwner,
    action: Annotated[str | None, Query(max_length=30)] = None,
    page: Annotated[int, Query(ge=1, le=10**6)] = 1,
) -> HTMLResponse:
    """The workspace's contact audit log, newest first, 100 a page. Owners only."""
    window = Window(limit=100, offset=(page - 1) * 100)
    entries = audit_log(db, caller.workspace_id, action=action or None, window=window)
    return render(
        request,
        db,
        "contact_audit.html",
        title="Contact audit log",
        audit=entries,
        action=action or "",
        actions=AUDIT_ACTIONS,
        page=page,
        pages=max(1, -(-entries.count // 100)),
    )
