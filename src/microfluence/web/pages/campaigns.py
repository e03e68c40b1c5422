"""The campaigns list (with a create form) and a campaign's page: its deals and deliverables,
the add-deal form, and the buttons that change the status, run the matcher, confirm or reject a
match. Forms are read here and handed to the campaigns services as their schemas."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from microfluence.campaigns import campaigns, deals, deliverables, values
from microfluence.campaigns.schemas import (
    CampaignCreate,
    CampaignUpdate,
    DealCreate,
    parse_model,
)
from microfluence.campaigns.tables import DELIVERABLE_FORMATS, GOALS
from microfluence.catalog.schemas import ID_MAX
from microfluence.relationships.submissions import list_submissions
from microfluence.tracking.deliverables import GRACE_DAYS, match_deliverables
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
Field = Annotated[str, Form(max_length=1000)]
Short = Annotated[str, Form(max_length=200)]


def _given(**fields: str) -> dict[str, Any]:
    """The form fields filled in (a blank field is one not given)."""
    return {k: v.strip() for k, v in fields.items() if v and v.strip()}


@router.get("/campaigns")
def campaigns_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    return render(
        request,
        db,
        "campaigns.html",
        title="Campaigns",
        campaigns=campaigns.list_campaigns(db, caller.workspace_id),
        goals=GOALS,
        kpis=values.KPI_NAMES,
    )


@router.post("/campaigns", dependencies=[CsrfChecked])
def create_campaign(  # noqa: PLR0913 - one parameter per form field
    db: DbSession,
    caller: PageWriter,
    name: Short,
    goal: Short = "sales",
    starts_on: Short = "",
    ends_on: Short = "",
    budget: Short = "",
    currency: Short = "USD",
    hashtags: Field = "",
    mentions: Field = "",
    targets: Field = "",
) -> RedirectResponse:
    data = _given(
        name=name, goal=goal, starts_on=starts_on, ends_on=ends_on, budget=budget, currency=currency
    )
    data |= _form_lists(hashtags, mentions, targets)
    made = campaigns.create_campaign(db, caller.workspace_id, parse_model(CampaignCreate, data))
    return RedirectResponse(f"/campaigns/{made.id}", status_code=303)


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    db: DbSession,
    caller: PageReader,
    campaign_id: Id,
    matched: Annotated[int | None, Query(ge=0, le=10**6)] = None,
    pending: Annotated[int | None, Query(ge=0, le=10**6)] = None,
) -> HTMLResponse:
    campaign = campaigns.get_campaign(db, caller.workspace_id, campaign_id)
    return render(
        request,
        db,
        "campaign.html",
        title=campaign.name,
        campaign=campaign,
        deals=deals.list_deals(db, caller.workspace_id, campaign_id),
        pieces=deliverables.list_deliverables(db, caller.workspace_id, campaign_id),
        next_statuses=values.TRANSITIONS[campaign.status],
        goals=GOALS,
        formats=DELIVERABLE_FORMATS,
        grace_days=GRACE_DAYS,
        matched=matched,
        pending=pending,
        to_review=list_submissions(
            db, caller.workspace_id, campaign_id=campaign_id, status="pending"
        ),
    )


def _form_lists(hashtags: str, mentions: str, targets: str) -> dict[str, Any]:
    """The campaign form's list fields, read the one way the create and edit forms share."""
    return {
        "hashtags": values.parse_tags(hashtags, field="hashtags", sign="#"),
        "mentions": values.parse_tags(mentions, field="mentions", sign="@"),
        "targets": values.parse_key_values(targets.replace(",", " ").split(), field="targets"),
    }


def _back(campaign_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/campaigns/{campaign_id}{anchor}", status_code=303)


@router.post("/campaigns/{campaign_id}/status", dependencies=[CsrfChecked])
def change_status(
    db: DbSession, caller: PageWriter, campaign_id: Id, status: Short
) -> RedirectResponse:
    data = parse_model(CampaignUpdate, {"status": status})
    campaigns.update_campaign(db, caller.workspace_id, campaign_id, data)
    return _back(campaign_id)


@router.post("/campaigns/{campaign_id}/edit", dependencies=[CsrfChecked])
def edit_campaign(  # noqa: PLR0913 - one parameter per form field
    db: DbSession,
    caller: PageWriter,
    campaign_id: Id,
    name: Short,
    goal: Short = "sales",
    starts_on: Short = "",
    ends_on: Short = "",
    budget: Short = "",
    currency: Short = "USD",
    hashtags: Field = "",
    mentions: Field = "",
    targets: Field = "",
    notes: Annotated[str, Form(max_length=20_000)] = "",
    brief: Annotated[str, Form(max_length=20_000)] = "",
    dos: Annotated[str, Form(max_length=20_000)] = "",
    donts: Annotated[str, Form(max_length=20_000)] = "",
    disclosure: Short = "",
) -> RedirectResponse:
    """The whole form is sent: a field left blank clears it (dates, budget, lists, notes, the
    brief; dos and don'ts are one per line)."""
    data: dict[str, Any] = {
        "name": name,
        "goal": goal,
        "currency": currency,
        "starts_on": starts_on.strip() or None,
        "ends_on": ends_on.strip() or None,
        "budget": budget.strip() or None,
        "notes": notes.strip() or None,
        "brief": brief.strip() or None,
        "dos": dos,
        "donts": donts,
        "disclosure": disclosure.strip() or None,
        **_form_lists(hashtags, mentions, targets),
    }
    campaigns.update_campaign(
        db, caller.workspace_id, campaign_id, parse_model(CampaignUpdate, data)
    )
    return _back(campaign_id)


@router.post("/campaigns/{campaign_id}/delete", dependencies=[CsrfChecked])
def delete_campaign(db: DbSession, caller: PageWriter, campaign_id: Id) -> RedirectResponse:
    campaigns.delete_campaign(db, caller.workspace_id, campaign_id)
    return RedirectResponse("/campaigns", status_code=303)


def deal_terms(  # noqa: PLR0913 - one parameter per form field
    *,
    flat_fee: str,
    product_value: str,
    shipping_cost: str,
    commission_rate: str,
    package: str,
    due: str,
) -> dict[str, Any]:
    """A deal's terms as its forms send them, read the one way the add form (campaign page) and
    the edit form (deal page) share: a blank amount or rate is 0, a blank package is no piece,
    a blank due is no date given."""
    amounts = {
        "flat_fee": flat_fee,
        "product_value": product_value,
        "shipping_cost": shipping_cost,
        "commission_rate": commission_rate,
    }
    data: dict[str, Any] = {name: "0" for name in amounts} | _given(**amounts)
    data["package"] = values.parse_package(package)
    data["due"] = values.parse_due(due) or None
    return data


@router.post("/campaigns/{campaign_id}/deals", dependencies=[CsrfChecked])
def add_deal(  # noqa: PLR0913 - one parameter per form field
    db: DbSession,
    caller: PageWriter,
    campaign_id: Id,
    creator: Short,
    flat_fee: Short = "",
    product_value: Short = "",
    shipping_cost: Short = "",
    commission_rate: Short = "",
    package: Field = "",
    due: Field = "",
) -> RedirectResponse:
    data = _given(creator=creator) | deal_terms(
        flat_fee=flat_fee,
        product_value=product_value,
        shipping_cost=shipping_cost,
        commission_rate=commission_rate,
        package=package,
        due=due,
    )
    deals.add_deal(db, caller.workspace_id, campaign_id, parse_model(DealCreate, data))
    return _back(campaign_id, "#deals")


@router.post("/campaigns/{campaign_id}/deals/{deal_id}/remove", dependencies=[CsrfChecked])
def remove_deal(
    db: DbSession, caller: PageWriter, campaign_id: Id, deal_id: Id
) -> RedirectResponse:
    deals.remove_deal(db, caller.workspace_id, campaign_id, deal_id)
    return _back(campaign_id, "#deals")


@router.post("/campaigns/{campaign_id}/match", dependencies=[CsrfChecked])
def match(db: DbSession, caller: PageWriter, campaign_id: Id) -> RedirectResponse:
    summary = match_deliverables(db, caller.workspace_id, campaign_id)
    return RedirectResponse(
        f"/campaigns/{campaign_id}?matched={summary.matched}&pending={summary.pending}"
        "#deliverables",
        status_code=303,
    )


@router.post(
    "/campaigns/{campaign_id}/deliverables/{deliverable_id}/confirm", dependencies=[CsrfChecked]
)
def confirm(
    db: DbSession, caller: PageWriter, campaign_id: Id, deliverable_id: Id
) -> RedirectResponse:
    deliverables.confirm_deliverable(db, caller.workspace_id, campaign_id, deliverable_id)
    return _back(campaign_id, "#deliverables")


@router.post(
    "/campaigns/{campaign_id}/deliverables/{deliverable_id}/reject", dependencies=[CsrfChecked]
)
def reject(
    db: DbSession, caller: PageWriter, campaign_id: Id, deliverable_id: Id
) -> RedirectResponse:
    deliverables.reject_match(db, caller.workspace_id, campaign_id, deliverable_id)
    return _back(campaign_id, "#deliverables")


@router.post(
    "/campaigns/{campaign_id}/deliverables/{deliverable_id}/assign", dependencies=[CsrfChecked]
)
def assign(
    db: DbSession, caller: PageWriter, campaign_id: Id, deliverable_id: Id, post: Field
) -> RedirectResponse:
    deliverables.assign_post(db, caller.workspace_id, campaign_id, deliverable_id, post)
    return _back(campaign_id, "#deliverables")
