"""The search page (``/search``: words or a brief (semantic toggle), filters, facets, result
cards with why, "more like this", paging, "add to shortlist") and the shortlists pages
(``/shortlists``: list, entries with notes, CSV export, "add all to campaign"), over the same
services as `microfluence search` and `shortlists`."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from microfluence.catalog.schemas import ID_MAX
from microfluence.discovery import shortlists
from microfluence.discovery.query import SearchQuery, Weights
from microfluence.discovery.search import search
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import PLATFORMS
from microfluence.web.api.labels import labeller
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter
from microfluence.web.pages.links import campaigns_of
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
Field = Annotated[str, Query(max_length=200)]
PER_PAGE = 20
NUMBERS = {
    "min_followers": int,
    "max_followers": int,
    "min_er_pct": float,
    "max_er_pct": float,
    "min_quality": float,
    "posted_within_days": int,
    "page": int,
}
TEXTS = (
    "q",
    "platform",
    "niche",
    "tier",
    "prefer_tier",
    "country",
    "language",
    "has_email",
    "semantic",
    "like",
)
WEIGHTS = ("relevance", "engagement", "authenticity", "tier", "semantic")


def _number(name: str, text: str) -> Any:
    if not text.strip():
        return None
    try:
        return NUMBERS[name](text.strip())
    except ValueError:
        raise InputError(f"{name}: {text[:40]!r} is not a number", field=name) from None


def _form(request: Request) -> dict[str, str]:
    """The search form's fields as given (blank ones kept blank, so the form shows them)."""
    params = request.query_params
    names = (*TEXTS, *NUMBERS, *(f"w_{w}" for w in WEIGHTS))
    form = {name: (params.get(name) or "")[:200] for name in names}
    return form


def _query(form: dict[str, str]) -> tuple[SearchQuery, int]:
    n = {name: _number(name, form[name]) for name in NUMBERS}
    given = {f"{w}": _number_w(w, form[f"w_{w}"]) for w in WEIGHTS}
    weights = Weights(**{k: v for k, v in given.items() if v is not None})
    page = max(1, n["page"] or 1)
    email = {"yes": True, "no": False}.get(form["has_email"])
    query = SearchQuery(
        q=form["q"] or None,
        platform=form["platform"] or None,
        niche=form["niche"] or None,
        tier=form["tier"] or None,
        prefer_tier=form["prefer_tier"] or None,
        country=form["country"] or None,
        language=form["language"] or None,
        has_email=email,
        min_followers=n["min_followers"],
        max_followers=n["max_followers"],
        min_er=None if n["min_er_pct"] is None else n["min_er_pct"] / 100,
        max_er=None if n["max_er_pct"] is None else n["max_er_pct"] / 100,
        min_quality=n["min_quality"],
        posted_within_days=n["posted_within_days"],
        weights=weights,
        semantic=form["semantic"] == "on",
        like=tuple(ref.strip() for ref in form["like"].split(",") if ref.strip()),
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    return query, page


def _number_w(name: str, text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"weight {name}: {text[:40]!r} is not a number", field=name) from None


def _link(form: dict[str, str], **changes: str) -> str:
    merged = {**form, **changes}
    return "/search?" + urlencode({k: v for k, v in merged.items() if v})


@router.get("/search")
def search_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    form = _form(request)
    query, page = _query(form)
    found = search(db, caller.workspace_id, query, with_facets=True)
    counts = found.facets
    pages = max(1, -(-found.count // PER_PAGE))
    return render(
        request,
        db,
        "search.html",
        title="Search",
        form=form,
        found=found,
        counts=counts,
        page=page,
        pages=pages,
        link=lambda **changes: _link(form, **changes),
        platforms=PLATFORMS,
        weights=Weights(),
        lists=shortlists.list_shortlists(db, caller.workspace_id),
    )


@router.get("/shortlists")
def shortlists_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    return render(
        request,
        db,
        "shortlists.html",
        title="Shortlists",
        lists=shortlists.list_shortlists(db, caller.workspace_id),
    )


@router.post("/shortlists", dependencies=[CsrfChecked])
def create_shortlist(
    db: DbSession,
    caller: PageWriter,
    name: Annotated[str, Form(max_length=200)],
    description: Annotated[str, Form(max_length=5000)] = "",
) -> RedirectResponse:
    made = shortlists.create_shortlist(
        db, caller.workspace_id, name, description=description or None, actor=labeller(db, caller)
    )
    return RedirectResponse(f"/shortlists/{made.id}", status_code=303)


@router.get("/shortlists/{shortlist_id}")
def shortlist_page(
    request: Request, db: DbSession, caller: PageReader, shortlist_id: Id
) -> HTMLResponse:
    return render(
        request,
        db,
        "shortlist.html",
        title="Shortlist",
        detail=shortlists.get_shortlist(db, caller.workspace_id, shortlist_id),
        campaigns=campaigns_of(db, caller.workspace_id),
    )


def _back(next_: str, fallback: str) -> str:
    """Only a path of this site (``/search?…``), never another site's address."""
    return next_ if next_.startswith("/") and not next_.startswith("//") else fallback


@router.post("/search/add", dependencies=[CsrfChecked])
def add_to_shortlist(
    db: DbSession,
    caller: PageWriter,
    shortlist_id: Annotated[int, Form(ge=1, le=ID_MAX)],
    account_id: Annotated[int, Form(ge=1, le=ID_MAX)],
    note: Annotated[str, Form(max_length=5000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002  the form field's name
) -> RedirectResponse:
    shortlists.add_entries(
        db,
        caller.workspace_id,
        shortlist_id,
        account_ids=[account_id],
        note=note or None,
        actor=labeller(db, caller),
    )
    return RedirectResponse(_back(next, f"/shortlists/{shortlist_id}"), status_code=303)


@router.post("/shortlists/{shortlist_id}/remove/{creator_id}", dependencies=[CsrfChecked])
def remove_from_shortlist(
    db: DbSession, caller: PageWriter, shortlist_id: Id, creator_id: Id
) -> RedirectResponse:
    shortlists.remove_entries(db, caller.workspace_id, shortlist_id, [creator_id])
    return RedirectResponse(f"/shortlists/{shortlist_id}", status_code=303)


@router.post("/shortlists/{shortlist_id}/note/{creator_id}", dependencies=[CsrfChecked])
def note_on_shortlist(
    db: DbSession,
    caller: PageWriter,
    shortlist_id: Id,
    creator_id: Id,
    note: Annotated[str, Form(max_length=5000)] = "",
) -> RedirectResponse:
    shortlists.set_note(db, caller.workspace_id, shortlist_id, creator_id, note or None)
    return RedirectResponse(f"/shortlists/{shortlist_id}#creator-{creator_id}", status_code=303)


@router.post("/shortlists/{shortlist_id}/to-campaign", dependencies=[CsrfChecked])
def shortlist_to_campaign(
    db: DbSession,
    caller: PageWriter,
    shortlist_id: Id,
    campaign_id: Annotated[int, Form(ge=1, le=ID_MAX)],
) -> RedirectResponse:
    shortlists.to_campaign(
        db, caller.workspace_id, shortlist_id, campaign_id, actor=labeller(db, caller)
    )
    return RedirectResponse(f"/campaigns/{campaign_id}/pipeline", status_code=303)


@router.post("/shortlists/{shortlist_id}/delete", dependencies=[CsrfChecked])
def delete_shortlist(db: DbSession, caller: PageWriter, shortlist_id: Id) -> RedirectResponse:
    shortlists.delete_shortlist(db, caller.workspace_id, shortlist_id)
    return RedirectResponse("/shortlists", status_code=303)


@router.get("/shortlists/{shortlist_id}/export.csv")
def export_shortlist(db: DbSession, caller: PageReader, shortlist_id: Id) -> Response:
    text = shortlists.export_csv(db, caller.workspace_id, shortlist_id)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="shortlist-{shortlist_id}.csv"'},
    )
