"""/api/v1/search, /api/v1/shortlists and /api/v1/saved-searches: finding creators by words and
filters (each result with why it ranks there), the shortlists a campaign takes creators from,
and searches saved to run again. Viewers read; members change (docs/discovery.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from microfluence.discovery import saved, shortlists
from microfluence.discovery.quality import refresh_quality
from microfluence.discovery.query import MAX_LIMIT, SearchQuery, Weights
from microfluence.discovery.schemas import (
    EntriesIn,
    NoteIn,
    SavedSearchIn,
    ShortlistIn,
    ShortlistPatch,
    ToCampaignIn,
)
from microfluence.discovery.search import SearchPage, search
from microfluence.relationships.schemas import ProspectsResult
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS
from microfluence.web.api.labels import labeller
from microfluence.web.deps import ApiReader, ApiWriter, DbSession, StoreDep

router = APIRouter(tags=["discovery"])
ListId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CreatorId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SavedId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str | None, Query(max_length=80)]


def search_query(  # noqa: PLR0913  each query parameter is a parameter
    q: Annotated[str | None, Query(max_length=500, description="Words to find.")] = None,
    platform: Text = None,
    niche: Annotated[str | None, Query(max_length=40)] = None,
    niche_confidence: Annotated[float, Query(ge=0, le=1)] = 0.5,
    tier: Annotated[str | None, Query(max_length=120)] = None,
    tier_scheme: Annotated[str | None, Query(max_length=48)] = None,
    prefer_tier: Annotated[str | None, Query(max_length=120)] = None,
    min_followers: Annotated[int | None, Query(ge=0, le=10**15)] = None,
    max_followers: Annotated[int | None, Query(ge=0, le=10**15)] = None,
    min_er: Annotated[float | None, Query(ge=0, le=100, description="0.03 is 3 %.")] = None,
    max_er: Annotated[float | None, Query(ge=0, le=100)] = None,
    min_quality: Annotated[float | None, Query(ge=0, le=100)] = None,
    country: Text = None,
    language: Annotated[str | None, Query(max_length=40)] = None,
    has_email: bool | None = None,
    posted_within_days: Annotated[int | None, Query(ge=0, le=36_500)] = None,
    weights: Annotated[
        str | None, Query(max_length=200, description="e.g. relevance=0.6,engagement=0.4")
    ] = None,
    semantic: Annotated[
        bool, Query(description="`q` is a brief: rank by meaning, not by matched words.")
    ] = False,
    like: Annotated[
        list[str] | None,
        Query(max_length=20, description="PLATFORM:HANDLE to find lookalikes of (repeat)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> SearchQuery:
    return SearchQuery(
        q=q,
        platform=platform,
        niche=niche,
        niche_confidence=niche_confidence,
        tier=tier,
        tier_scheme=tier_scheme,
        prefer_tier=prefer_tier,
        min_followers=min_followers,
        max_followers=max_followers,
        min_er=min_er,
        max_er=max_er,
        min_quality=min_quality,
        country=country,
        language=language,
        has_email=has_email,
        posted_within_days=posted_within_days,
        weights=Weights.parse(weights),
        semantic=semantic,
        like=tuple(like or ()),
        limit=limit,
        offset=offset,
    )


Search = Annotated[SearchQuery, Depends(search_query)]


def _fresh(value: Any) -> Any:
    """A service's dataclass as plain data, so the answer is validated again into its type:
    times stored naive are then sent as UTC ("…Z", catalog.schemas.UtcDateTime)."""
    if isinstance(value, list):
        return [asdict(v) for v in value]
    return asdict(value)


@router.get("/search", responses=ITEM_ERRORS)
def run_search(
    db: DbSession,
    caller: ApiReader,
    query: Search,
    with_facets: Annotated[bool, Query(alias="facets")] = False,
) -> SearchPage:
    """Accounts by words, a brief (`semantic=true`) or lookalikes (`like`) and filters, best
    first; each result's `why` names the matched words and fields, its niches, its similarity
    (semantic and lookalike queries) and the ranking's parts with their weighted contributions
    (they add up to `score`). `facets=true` adds counts per niche, tier and country of the
    whole result."""
    return search(db, caller.workspace_id, query, with_facets=with_facets)


@router.post("/search/quality", responses=WRITE_ERRORS)
def refresh_search_quality(store: StoreDep, caller: ApiWriter) -> dict[str, int]:
    """Recompute the Audience Quality Score the quality filter and the ranking read."""
    return {"accounts": refresh_quality(store, caller.workspace_name)}


@router.get("/shortlists", responses=READ_ERRORS)
def list_shortlists(db: DbSession, caller: ApiReader) -> list[shortlists.ShortlistInfo]:
    """The workspace's shortlists, by name, with how many creators each holds."""
    return _fresh(shortlists.list_shortlists(db, caller.workspace_id))


@router.post("/shortlists", status_code=201, responses=WRITE_ERRORS)
def create_shortlist(
    db: DbSession, caller: ApiWriter, body: ShortlistIn
) -> shortlists.ShortlistInfo:
    """A new, empty shortlist (409 when the name is taken)."""
    made = shortlists.create_shortlist(
        db, caller.workspace_id, body.name, description=body.description, actor=labeller(db, caller)
    )
    return _fresh(made)


@router.get("/shortlists/{shortlist_id}", responses=ITEM_ERRORS)
def get_shortlist(
    db: DbSession, caller: ApiReader, shortlist_id: ListId
) -> shortlists.ShortlistDetail:
    """A shortlist with its creators, the account that brought each in, and the notes."""
    return _fresh(shortlists.get_shortlist(db, caller.workspace_id, shortlist_id))


@router.patch("/shortlists/{shortlist_id}", responses=WRITE_ERRORS)
def update_shortlist(
    db: DbSession, caller: ApiWriter, shortlist_id: ListId, body: ShortlistPatch
) -> shortlists.ShortlistInfo:
    """Rename a shortlist or change its description."""
    changed = shortlists.update_shortlist(
        db, caller.workspace_id, shortlist_id, name=body.name, description=body.description
    )
    return _fresh(changed)


@router.delete("/shortlists/{shortlist_id}", status_code=204, responses=ITEM_ERRORS)
def delete_shortlist(db: DbSession, caller: ApiWriter, shortlist_id: ListId) -> Response:
    """Delete a shortlist; its creators stay in the workspace."""
    shortlists.delete_shortlist(db, caller.workspace_id, shortlist_id)
    return Response(status_code=204)


@router.post("/shortlists/{shortlist_id}/entries", responses=WRITE_ERRORS)
def add_entries(
    db: DbSession, caller: ApiWriter, shortlist_id: ListId, body: EntriesIn
) -> shortlists.AddResult:
    """Add creators by `account_ids` (search results), `accounts` (PLATFORM:HANDLE) or
    `creator_ids`, all or none; those already on it keep their note."""
    return shortlists.add_entries(
        db,
        caller.workspace_id,
        shortlist_id,
        account_ids=body.account_ids,
        references=body.accounts,
        creator_ids=body.creator_ids,
        note=body.note,
        actor=labeller(db, caller),
    )


@router.patch(
    "/shortlists/{shortlist_id}/entries/{creator_id}", status_code=204, responses=WRITE_ERRORS
)
def set_note(
    db: DbSession, caller: ApiWriter, shortlist_id: ListId, creator_id: CreatorId, body: NoteIn
) -> Response:
    """Change the note of a creator on the shortlist."""
    shortlists.set_note(db, caller.workspace_id, shortlist_id, creator_id, body.note)
    return Response(status_code=204)


@router.delete(
    "/shortlists/{shortlist_id}/entries/{creator_id}", status_code=204, responses=ITEM_ERRORS
)
def remove_entry(
    db: DbSession, caller: ApiWriter, shortlist_id: ListId, creator_id: CreatorId
) -> Response:
    """Take a creator off the shortlist."""
    shortlists.remove_entries(db, caller.workspace_id, shortlist_id, [creator_id])
    return Response(status_code=204)


@router.get(
    "/shortlists/{shortlist_id}/export",
    responses={**ITEM_ERRORS, 200: {"content": {"text/csv": {}}, "description": "The CSV."}},
)
def export_shortlist(db: DbSession, caller: ApiReader, shortlist_id: ListId) -> Response:
    """The shortlist as CSV, cells a spreadsheet would run as formulas neutralised."""
    text = shortlists.export_csv(db, caller.workspace_id, shortlist_id)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="shortlist-{shortlist_id}.csv"'},
    )


@router.post("/shortlists/{shortlist_id}/to-campaign", responses=WRITE_ERRORS)
def shortlist_to_campaign(
    db: DbSession, caller: ApiWriter, shortlist_id: ListId, body: ToCampaignIn
) -> ProspectsResult:
    """Add every creator of the shortlist to the campaign as a prospect."""
    return shortlists.to_campaign(
        db, caller.workspace_id, shortlist_id, body.campaign_id, actor=labeller(db, caller)
    )


@router.get("/saved-searches", responses=READ_ERRORS)
def list_saved(db: DbSession, caller: ApiReader) -> list[saved.SavedInfo]:
    """The workspace's saved searches with their parameters."""
    return _fresh(saved.list_saved(db, caller.workspace_id))


@router.post("/saved-searches", status_code=201, responses=WRITE_ERRORS)
def save_search(db: DbSession, caller: ApiWriter, body: SavedSearchIn) -> saved.SavedInfo:
    """Save a search's parameters under a name (409 when taken, unless `replace`)."""
    query = SearchQuery.from_dict(body.query)
    info = saved.save_search(
        db, caller.workspace_id, body.name, query, actor=labeller(db, caller), replace=body.replace
    )
    return _fresh(info)


@router.get("/saved-searches/{saved_id}", responses=ITEM_ERRORS)
def get_saved(db: DbSession, caller: ApiReader, saved_id: SavedId) -> saved.SavedInfo:
    """One saved search."""
    return _fresh(saved.get_saved(db, caller.workspace_id, saved_id))


@router.get("/saved-searches/{saved_id}/results", responses=ITEM_ERRORS)
def run_saved(
    db: DbSession,
    caller: ApiReader,
    saved_id: SavedId,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> SearchPage:
    """Run a saved search again."""
    return saved.run_saved(db, caller.workspace_id, saved_id, limit=limit, offset=offset)


@router.delete("/saved-searches/{saved_id}", status_code=204, responses=ITEM_ERRORS)
def delete_saved(db: DbSession, caller: ApiWriter, saved_id: SavedId) -> Response:
    """Delete a saved search."""
    saved.delete_saved(db, caller.workspace_id, saved_id)
    return Response(status_code=204)
