"""A deal's one page, ``/campaigns/{campaign_id}/deals/{deal_id}``: its pipeline stage with the
stage menu (members), days in the stage and fee, its history (every stage move, message and
portal action), its gifts with their status buttons, its creator-portal links (a new link's
URL shown once), and its submissions; and the review of submissions from the campaign page.
Members change, viewers read; everything goes through the relationships services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from microfluence.access.principal import Principal
from microfluence.campaigns import campaigns, deals
from microfluence.campaigns.products import list_products
from microfluence.campaigns.schemas import DealPublic, DealUpdate, parse_model
from microfluence.campaigns.tables import PIPELINE_STAGES, SIDE_STAGES
from microfluence.catalog.schemas import ID_MAX
from microfluence.kernel.errors import InputError
from microfluence.relationships import gifting, pipeline, portal, submissions
from microfluence.relationships.addresses import FIELDS, LABELS
from microfluence.relationships.settings import PortalSettings
from microfluence.relationships.stages import deal_history
from microfluence.web import auth
from microfluence.web.api.workspace import base_url
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter
from microfluence.web.pages.campaigns import deal_terms
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
Short = Annotated[str, Form(max_length=300)]
Text = Annotated[str, Form(max_length=2000)]


def who(request: Request, db: Session) -> str | None:
    """The signed-in user's email: the actor recorded in the deal's history."""
    signed_in = auth.current_session(request, db)
    return signed_in.email if signed_in else None


def _deal_page(
    request: Request, db: Session, caller: Principal, campaign_id: int, deal_id: int, **extra: Any
) -> HTMLResponse:
    ws = caller.workspace_id
    deal = deals.get_deal(db, ws, campaign_id, deal_id)
    campaign = campaigns.get_campaign(db, ws, campaign_id)
    due = deals.pending_due(db, ws, campaign_id, deal_id)
    return render(
        request,
        db,
        "deal.html",
        title=f"{deal.creator_name or 'Deal'} · {campaign.name}",
        campaign=campaign,
        deal=deal,
        stage=deals.find_deal(db, ws, campaign_id, deal_id).stage,
        card=pipeline.card(db, ws, campaign_id, deal_id),
        stages=(*PIPELINE_STAGES, *SIDE_STAGES),
        history=deal_history(db, ws, deal_id),
        gifts=gifting.list_gifts(db, ws, deal_id),
        transitions=gifting.TRANSITIONS,
        products=list_products(db, ws, active_only=True),
        links=portal.list_portal_links(db, ws, deal_id),
        submissions=submissions.list_submissions(db, ws, deal_id=deal_id),
        address_fields=[(name, LABELS[name]) for name in FIELDS],
        link_days=PortalSettings().portal_link_days,
        due=due,
        terms=_terms_form(deal, due),
        **extra,
    )


def _terms_form(deal: DealPublic, due: dict[str, Any]) -> dict[str, str]:
    """The edit form filled in with the deal's terms as they are stored."""
    return {
        "flat_fee": str(deal.flat_fee),
        "product_value": str(deal.product_value),
        "shipping_cost": str(deal.shipping_cost),
        "commission_rate": str(deal.commission_rate),
        "package": " ".join(f"{fmt}={n}" for fmt, n in deal.package.items()),
        "due": " ".join(f"{fmt}={day.isoformat()}" for fmt, day in due.items()),
        "notes": deal.notes or "",
    }


@router.get("/campaigns/{campaign_id}/deals/{deal_id}")
def deal_page(
    request: Request, db: DbSession, caller: PageReader, campaign_id: Id, deal_id: Id
) -> HTMLResponse:
    return _deal_page(request, db, caller, campaign_id, deal_id)


def _back(campaign_id: int, deal_id: int, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/campaigns/{campaign_id}/deals/{deal_id}#{anchor}", status_code=303)


@router.post("/campaigns/{campaign_id}/deals/{deal_id}/terms", dependencies=[CsrfChecked])
def edit_terms(  # noqa: PLR0913 - one parameter per form field
    request: Request,
    db: DbSession,
    caller: PageWriter,
    campaign_id: Id,
    deal_id: Id,
    flat_fee: Short = "",
    product_value: Short = "",
    shipping_cost: Short = "",
    commission_rate: Short = "",
    package: Text = "",
    due: Text = "",
    notes: Annotated[str, Form(max_length=20_000)] = "",
) -> Any:
    """The whole form is sent, through the service the API's PATCH calls (deals.update_deal). A
    bad value shows the form again as sent, with a 422 naming the field; nothing is stored."""
    sent = {
        "flat_fee": flat_fee,
        "product_value": product_value,
        "shipping_cost": shipping_cost,
        "commission_rate": commission_rate,
        "package": package,
        "due": due,
    }
    try:
        data = parse_model(DealUpdate, {**deal_terms(**sent), "notes": notes.strip() or None})
        with db.begin_nested():  # a refusal half-way (the package) leaves the deal as it was
            deals.update_deal(db, caller.workspace_id, campaign_id, deal_id, data)
    except InputError as exc:
        page = _deal_page(
            request,
            db,
            caller,
            campaign_id,
            deal_id,
            terms_error=exc.describe(),
            draft={**sent, "notes": notes},
        )
        page.status_code = 422
        return page
    return _back(campaign_id, deal_id, "terms")


@router.post("/campaigns/{campaign_id}/deals/{deal_id}/portal-links", dependencies=[CsrfChecked])
def create_portal_link(
    request: Request,
    db: DbSession,
    caller: PageWriter,
    campaign_id: Id,
    deal_id: Id,
    days: Annotated[int | None, Form(ge=1, le=portal.MAX_DAYS)] = None,
) -> HTMLResponse:
    """The page again, with the new link's URL: shown this once (the store keeps its hash)."""
    deals.find_deal(db, caller.workspace_id, campaign_id, deal_id)
    made = portal.create_portal_link(
        db,
        caller.workspace_id,
        deal_id,
        created_by=who(request, db),
        days=days,
        base=base_url(request),
    )
    return _deal_page(request, db, caller, campaign_id, deal_id, new_link=made)


@router.post(
    "/campaigns/{campaign_id}/deals/{deal_id}/portal-links/{link_id}/revoke",
    dependencies=[CsrfChecked],
)
def revoke_portal_link(
    db: DbSession, caller: PageWriter, campaign_id: Id, deal_id: Id, link_id: Id
) -> RedirectResponse:
    deals.find_deal(db, caller.workspace_id, campaign_id, deal_id)
    portal.revoke_portal_link(db, caller.workspace_id, deal_id, link_id)
    return _back(campaign_id, deal_id, "portal")


@router.post("/campaigns/{campaign_id}/deals/{deal_id}/gifts", dependencies=[CsrfChecked])
async def add_gift(request: Request, caller: PageWriter, campaign_id: Id, deal_id: Id) -> Any:
    """A gift: a catalogue SKU or a name and value, a quantity, and optionally the address."""
    form = await request.form(max_fields=50)
    fields = {k: v.strip() for k, v in form.items() if isinstance(v, str) and v.strip()}
    address = {name: fields[name] for name in FIELDS if name in fields}
    data: dict[str, Any] = {
        k: fields[k] for k in ("sku", "name", "value", "quantity") if k in fields
    }
    if address:
        data["address"] = address
    gift = parse_model(gifting.GiftCreate, data)

    def run() -> None:
        with request.app.state.store.transaction() as db:
            deals.find_deal(db, caller.workspace_id, campaign_id, deal_id)
            gifting.add_gift(db, caller.workspace_id, deal_id, gift, actor=who(request, db))

    await run_in_threadpool(run)
    return _back(campaign_id, deal_id, "gifts")


@router.post(
    "/campaigns/{campaign_id}/deals/{deal_id}/gifts/{gift_id}/status", dependencies=[CsrfChecked]
)
def gift_status(  # noqa: PLR0913 - one parameter per form field
    request: Request,
    db: DbSession,
    caller: PageWriter,
    campaign_id: Id,
    deal_id: Id,
    gift_id: Id,
    status: Annotated[str, Form(max_length=20)],
    carrier: Short = "",
    tracking_number: Short = "",
) -> RedirectResponse:
    deals.find_deal(db, caller.workspace_id, campaign_id, deal_id)
    data = parse_model(
        gifting.GiftUpdate,
        {
            "status": status,
            **({"carrier": carrier.strip()} if carrier.strip() else {}),
            **({"tracking_number": tracking_number.strip()} if tracking_number.strip() else {}),
        },
    )
    gifting.update_gift(db, caller.workspace_id, deal_id, gift_id, data, actor=who(request, db))
    return _back(campaign_id, deal_id, "gifts")


@router.post(
    "/campaigns/{campaign_id}/submissions/{submission_id}/review", dependencies=[CsrfChecked]
)
def review(  # noqa: PLR0913 - one parameter per form field
    request: Request,
    db: DbSession,
    caller: PageWriter,
    campaign_id: Id,
    submission_id: Id,
    decision: Annotated[str, Form(max_length=20)],
    note: Text = "",
    back: Annotated[str, Form(max_length=10)] = "campaign",
) -> RedirectResponse:
    data = submissions.Review(decision=decision, note=note.strip() or None)
    done = submissions.review(
        db, caller.workspace_id, campaign_id, submission_id, data, reviewer=who(request, db)
    )
    if back == "deal":
        return _back(campaign_id, done.deal_id, "submissions")
    return RedirectResponse(f"/campaigns/{campaign_id}#submissions", status_code=303)
