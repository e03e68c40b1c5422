"""The planner page (``/planner``): a budget slider and the constraints form, the chosen set,
the alternatives side by side and charts of the outcome distributions; members turn the plan
into a campaign's deals (``POST /planner/deals``). Over the same services as `microfluence
plan` and ``/api/v1/plans`` (docs/planning.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from microfluence.discovery.shortlists import list_shortlists
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Workspace
from microfluence.planning.planner import make_plan
from microfluence.planning.schemas import (
    OBJECTIVES,
    PlanDeals,
    PlanResult,
    parse_quotas,
    plan_request,
)
from microfluence.planning.todeals import plan_to_deals
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter
from microfluence.web.pages.links import campaigns_of
from microfluence.web.pages.planner_charts import outcome_figures
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
TEXTS = (
    "budget",
    "objective",
    "min_creators",
    "max_creators",
    "niches",
    "countries",
    "tiers",
    "min_aqs",
    "max_share_pct",
    "max_overlap_pct",
    "shortlist",
    "seed",
)
FORMATS = ("feed_post", "reel", "video", "story", "short", "bundle")


def _number(form: dict[str, Any], name: str, kind: type = float) -> Any:
    text = form[name].strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise InputError(f"{text[:40]!r} is not a number", field=name) from None


def _quotas(text: str, field: str) -> dict[str, Any]:
    return parse_quotas([t.strip() for t in text.split(",") if t.strip()], field)


def _request(form: dict[str, Any]) -> Any:
    share = _number(form, "max_share_pct")
    overlap = _number(form, "max_overlap_pct")
    return plan_request(
        budget=_number(form, "budget"),
        objective=form["objective"] or "revenue",
        min_creators=_number(form, "min_creators", int),
        max_creators=_number(form, "max_creators", int),
        niches=_quotas(form["niches"], "niches"),
        countries=_quotas(form["countries"], "countries"),
        tiers=_quotas(form["tiers"], "tiers"),
        min_aqs=_number(form, "min_aqs"),
        max_share=None if share is None else share / 100,
        max_overlap=None if overlap is None else overlap / 100,
        formats=form["formats"] or None,
        shortlist=form["shortlist"] or None,
        seed=_number(form, "seed", int) or 0,
    )


@router.get("/planner")
def planner_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    params = request.query_params
    form: dict[str, Any] = {name: (params.get(name) or "")[:500] for name in TEXTS}
    form["formats"] = [f for f in params.getlist("format") if f in FORMATS]
    result: PlanResult | None = None
    error = None
    if form["budget"]:
        try:
            workspace = db.get_one(Workspace, caller.workspace_id)
            result = make_plan(db, workspace, _request(form))
        except InputError as exc:
            error = exc
    return render(
        request,
        db,
        "planner.html",
        title="Planner",
        form=form,
        result=result,
        error=error,
        objectives=OBJECTIVES,
        formats=FORMATS,
        charts=outcome_figures(result) if result else [],
        shortlists=[s.name for s in list_shortlists(db, caller.workspace_id)],
        campaigns=campaigns_of(db, caller.workspace_id),
    )


@router.post("/planner/deals", dependencies=[CsrfChecked])
def planner_deals(  # noqa: PLR0913  the form's fields
    db: DbSession,
    caller: PageWriter,
    account: Annotated[list[str], Form(max_length=1000)],
    format_: Annotated[list[str], Form(alias="format", max_length=1000)],
    fee: Annotated[list[float], Form(max_length=1000)],
    campaign_id: Annotated[str, Form(max_length=20)] = "",
    campaign_name: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    if not (len(account) == len(format_) == len(fee)):
        raise InputError("the plan's items are incomplete", field="items")
    new = campaign_name.strip()
    try:
        existing = None if new or not campaign_id.strip() else int(campaign_id)
    except ValueError:
        raise InputError(f"{campaign_id[:20]!r} is not a campaign", field="campaign_id") from None
    data = PlanDeals.model_validate(
        {
            "campaign_id": existing,
            "campaign_name": new or None,
            "items": [
                {"account": a, "format": f, "fee": x}
                for a, f, x in zip(account, format_, fee, strict=True)
            ],
        }
    )
    made, _ = plan_to_deals(db, caller.workspace_id, data)
    return RedirectResponse(f"/campaigns/{made}", status_code=303)
