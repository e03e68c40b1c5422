"""The creators table (filters, sorting, pagination) and the creator profile."""

from __future__ import annotations

import math
import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from microfluence.access.principal import Principal
from microfluence.campaigns.campaigns import list_campaigns
from microfluence.catalog.creators import SORT_KEYS, CreatorFilters, list_creators
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import ID_MAX
from microfluence.connectors.oauth.insights import verified_accounts
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import PLATFORMS
from microfluence.metrics.service import workspace_tiers
from microfluence.metrics.settings import get_metrics_settings
from microfluence.web.deps import DbSession, PageReader
from microfluence.web.pages.links import creator_links
from microfluence.web.pages.niches import account_niches
from microfluence.web.pages.profile import creator_profile
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100)
MAX_COUNT = 10**15
SORTABLE = ("name", "country", "category", "followers")
_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def parse_count(text: str | None, field: str) -> int | None:
    """A follower count typed in a form: 12000, 12,000, 12k or 1.5M; blank means no limit."""
    if text is None or not text.strip():
        return None
    match = _COUNT.match(text.replace(",", "").replace("_", ""))
    if match is None:
        raise InputError(f"{field}: not a number of followers: {text!r}", field=field)
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    count = int(float(match.group(1)) * factor)
    if count > MAX_COUNT:  # the API's bound: a larger number fits no store's integer
        raise InputError(f"{field}: at most {MAX_COUNT:,} followers", field=field)
    return count


Text = Annotated[str | None, Query(max_length=200)]


def creator_filters(  # noqa: PLR0913 - one parameter per filter of the form
    db: Session,
    caller: Principal,
    q: str | None,
    platform: str | None,
    country: str | None,
    category: str | None,
    min_followers: str | None,
    max_followers: str | None,
    tier: str | None,
) -> CreatorFilters:
    """The creators list's filters as typed in its form (also carried by the "Add to campaign"
    form, so the action runs on what the list shows)."""
    if platform and platform not in PLATFORMS:
        raise InputError(f"unknown platform {platform!r}", field="platform")
    settings = get_metrics_settings(db, caller.workspace_name)
    return CreatorFilters(
        platform=platform or None,
        country=(country or "").strip() or None,
        category=(category or "").strip() or None,
        q=(q or "").strip() or None,
        min_followers=parse_count(min_followers, "min_followers"),
        max_followers=parse_count(max_followers, "max_followers"),
        tier=tier or None,
        tier_scheme=settings.tier_scheme if tier else None,
    )


@router.get("/creators")
def creators_page(
    request: Request,
    db: DbSession,
    caller: PageReader,
    q: Text = None,
    platform: Annotated[str | None, Query(max_length=20)] = None,
    country: Annotated[str | None, Query(max_length=80)] = None,
    category: Annotated[str | None, Query(max_length=120)] = None,
    min_followers: Annotated[str | None, Query(max_length=30)] = None,
    max_followers: Annotated[str | None, Query(max_length=30)] = None,
    tier: Annotated[str | None, Query(max_length=120)] = None,
    sort: Annotated[str, Query(max_length=40)] = "name",
    page: Annotated[int, Query(ge=1, le=10**6)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 50,
) -> HTMLResponse:
    settings = get_metrics_settings(db, caller.workspace_name)
    filters = creator_filters(
        db, caller, q, platform, country, category, min_followers, max_followers, tier
    )
    if sort.lstrip("-") not in SORT_KEYS:
        raise InputError(f"cannot sort by {sort!r}", field="sort")
    result = list_creators(
        db,
        caller.workspace_id,
        filters,
        sort=sort,
        window=Window(limit=per_page, offset=(page - 1) * per_page),
    )
    account_ids = [a.id for c in result.data for a in c.accounts]
    tiers = workspace_tiers(
        db, caller.workspace_name, settings.tier_scheme, account_ids=account_ids
    )
    # Each creator's distinct tiers, in the order of their accounts.
    creator_tiers = {
        c.id: list(dict.fromkeys(tiers[a.id] for a in c.accounts if tiers.get(a.id)))
        for c in result.data
    }
    return render(
        request,
        db,
        "creators.html",
        title="Creators",
        creators=result.data,
        count=result.count,
        page=page,
        pages=max(1, math.ceil(result.count / per_page)),
        per_page=per_page,
        page_sizes=PAGE_SIZES,
        sort=sort,
        sortable=SORTABLE,
        filters=filters,
        form={
            "q": q or "",
            "platform": platform or "",
            "country": country or "",
            "category": category or "",
            "min_followers": min_followers or "",
            "max_followers": max_followers or "",
            "tier": tier or "",
        },
        platforms=PLATFORMS,
        tiers=creator_tiers,
        scored=bool(tiers),
        tier_names=settings.scheme.tier_names(),
        tier_scheme=settings.scheme,
        campaigns=list_campaigns(db, caller.workspace_id),
    )


@router.get("/creators/{creator_id}")
def profile_page(
    request: Request,
    db: DbSession,
    caller: PageReader,
    creator_id: Annotated[int, Path(ge=1, le=ID_MAX)],
) -> HTMLResponse:
    profile = creator_profile(db, caller, creator_id)
    return render(
        request,
        db,
        "profile.html",
        title=profile.creator.name or f"Creator {creator_id}",
        profile=profile,
        charts=True,
        **creator_links(request, db, caller.workspace_id, creator_id),
        **account_niches(db, caller.workspace_id, [v.account.id for v in profile.accounts]),
        verified=verified_accounts(
            db, caller.workspace_id, [v.account.id for v in profile.accounts]
        ),
    )
